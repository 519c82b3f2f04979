"""`./run bench`: run every benchmark (the million-document search run takes about 20 minutes,
the web load on 100,000 items about 10, the 5 GB package about 20 with its set-up)."""

from benchmarks import (
    intake,
    processing,
    search_quality,
    search_scale,
    sharing,
    web_load,
    web_upload,
)

if __name__ == "__main__":
    intake.main()
    processing.main()
    search_quality.main()
    search_scale.main()
    web_upload.main()
    web_load.main()
    sharing.main()
