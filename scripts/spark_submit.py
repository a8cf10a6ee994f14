"""`spark-submit scripts/spark_submit.py audit --engine spark --input DIR --out FILE.csv`: the command line
of `python -m analysis` as a file that `spark-submit` can run (it runs files, not `-m` modules).

Run it from a checkout (the driver reads queries/ and config/ from it); executors need the `analysis`
package only for batch sentiment: `zip -r analysis.zip analysis` and pass `--py-files analysis.zip`.
The session that spark-submit configures (master, memory, partitions) is the one the command uses.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
