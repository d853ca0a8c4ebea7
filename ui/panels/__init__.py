"""The dashboard's panels: each draws one part of a page from the arguments it is given.

A page script (``pages/``) reads the scenario and the planner's choices and
hands them to its panels; no panel reads a page's globals, so each can be run
on its own (``tests/test_pages.py`` runs one with AppTest).
"""
