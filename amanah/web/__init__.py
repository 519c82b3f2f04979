"""The web application: a JSON API under /api/v1 and HTML pages in Arabic and English.

It sits above everything else and decides nothing about access itself: it authenticates the
caller and asks `amanah.access`, like the command line does.
"""
