"""Wiring: the Bot and Dispatcher, middlewares, runners and the command line."""
