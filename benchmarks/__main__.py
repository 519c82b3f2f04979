"""`./run bench`: run every benchmark."""

from benchmarks import intake, processing

if __name__ == "__main__":
    intake.main()
    processing.main()
