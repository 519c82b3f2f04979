"""`./run bench`: run every benchmark."""

from benchmarks import intake

if __name__ == "__main__":
    intake.main()
