"""This package's HTTP/1.1 connections (async source)."""
