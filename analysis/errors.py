class UserError(Exception):
    """A mistake of the user's (bad file, unknown month, missing model).

    The command line prints its message as one line on stderr and exits non-zero, without a
    traceback. The message names the problem and what to do about it.
    """
