"""Shared pieces of the pages: layout, translation, form fields, money and tables."""
