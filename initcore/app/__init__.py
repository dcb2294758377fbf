"""The application: the command line, the four-failures demo and the
plots. Nothing below this folder imports it.
"""
