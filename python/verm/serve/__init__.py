"""The reward / critic HTTP server (``verm serve``); needs the ``serve`` extra."""

__all__ = ["ServerConfig", "create_app"]


def __getattr__(name):
    if name in __all__:
        from verm.serve import app

        return getattr(app, name)
    raise AttributeError(name)
