"""Publishing: stored results become files people read (leaderboards, boards, pages,
Gradescope results, gradebook CSVs).
"""
