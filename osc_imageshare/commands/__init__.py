"""The cliff commands: parse, call one workflow function, render."""
