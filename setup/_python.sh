# Sourced by setup/demo and setup/test: picks a Python that Odoo 18 supports.
pick_python() {
  if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
  for candidate in python3.11 python3.12 python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys, venv; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 12)))' 2>/dev/null; then
      echo "$candidate"; return
    fi
  done
  echo "[bankkoppeling] ERROR: Odoo 18 needs Python 3.10, 3.11 or 3.12 with venv; none found. Install python3.11 and python3.11-venv, or set PYTHON=/path/to/python3.11." >&2
  exit 2
}
