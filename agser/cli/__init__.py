"""Subcommands of the ``agser`` command, one module each (``add_arguments``, ``run``)."""

__all__ = ["option_pairs"]


def option_pairs(option, items, form="NAME=VALUE"):
    """Parse the ``NAME=VALUE`` items of a repeatable command-line option.

    Parameters
    ----------
    option : str
        The option's name without ``--`` (quoted in the error).
    items : list of str
        The values given, e.g. ``["utterance_id=file"]``.
    form : str
        How an item must look (quoted in the error).

    Returns
    -------
    dict of str -> str
        Names and values, stripped; empty when no item was given.

    Raises
    ------
    ParameterError
        An item without ``=`` or with an empty side.

    Examples
    --------
    >>> option_pairs("column", ["utterance_id = file", "speaker=actor"])
    {'utterance_id': 'file', 'speaker': 'actor'}
    >>> option_pairs("column", ["oops"])
    Traceback (most recent call last):
    ...
    agser.errors.ParameterError: --column 'oops' must look like NAME=VALUE
    """
    from agser.errors import ParameterError

    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ParameterError(f"--{option} {item!r} must look like {form}")
        out[name.strip()] = value.strip()
    return out
