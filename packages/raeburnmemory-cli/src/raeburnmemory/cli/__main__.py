"""``python -m raeburnmemory.cli``: the same command as the ``raeburnmemory`` script."""

from raeburnmemory.cli._app import main

if __name__ == "__main__":
    main()
