"""rnn-kit's autograder: build the exercises, check them, grade a class."""
__version__ = "0.1.0"
