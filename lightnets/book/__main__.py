"""``python -m lightnets.book --out build/book``: see :mod:`lightnets.book`."""
from lightnets.book import main

if __name__ == "__main__":
    main()
