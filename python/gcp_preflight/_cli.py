"""The ``gcp-preflight`` console command: the Rust command's ``main``, run in process."""

import sys


def main() -> None:
    """Runs ``gcp-preflight`` with this process's arguments and exits with its code."""
    from gcp_preflight import _native

    sys.stdout.flush()
    sys.exit(_native.cli_main(["gcp-preflight", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
