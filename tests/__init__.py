"""GridPlan tests: unit tests per stage, AppTests of every page, Playwright end-to-end flows."""
