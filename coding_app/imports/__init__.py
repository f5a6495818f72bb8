"""Spreadsheets a PI brings into a study, each all or nothing."""
