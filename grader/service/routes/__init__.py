"""The service's routes, one router per concern: uploads, results (and the staff's
calls on them), the pages, the live page's events. Each reads the service's parts
through grader.service.context."""
