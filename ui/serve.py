"""Launch the dashboard: ``python -m ui.serve [streamlit run options]``.

The same as ``streamlit run app.py`` (every option is passed on), with the
dashboard's libraries imported beside the starting server (:mod:`ui.preload`),
so the first planner does not wait for them.  ``scripts/dashboard.sh`` runs this.
"""

from __future__ import annotations

import sys

from ui import preload


def main(argv: list[str] | None = None) -> None:
    from streamlit.web import cli  # imported here, before the preload thread imports more

    args = sys.argv[1:] if argv is None else argv
    sys.argv = ["streamlit", "run", str(preload.ROOT / "app.py"), *args]
    preload.start()
    cli.main()


if __name__ == "__main__":
    main()
