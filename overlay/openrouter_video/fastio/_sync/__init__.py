"""This package's HTTP/1.1 connections (sync, generated)."""
