"""`./run bench`: run every benchmark (the million-document search run takes about 20 minutes)."""

from benchmarks import intake, processing, search_quality, search_scale

if __name__ == "__main__":
    intake.main()
    processing.main()
    search_quality.main()
    search_scale.main()
