import sys
from pathlib import Path

# The tally tests share one factory module; tests dirs have no __init__.py, so put it on the path.
sys.path.insert(0, str(Path(__file__).parent))
