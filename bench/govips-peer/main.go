// The Go peer of the renderer (bench/renditions.ts), written the way imgproxy drives libvips:
// GET /render?name=<stored file>&w=<px> reads the original from the folder the service stores
// into and calls vips_thumbnail on the file (shrink-on-load: the JPEG is decoded at the
// smallest scale that still covers the width), upright, never enlarged, then WebP at the same
// quality as the sharp peer and the service. No signature, no store lookup, no cache, no
// write. libvips as imgproxy sets it up: one thread per operation (the requests in flight give
// the parallelism) and its operation cache off.
//
// Needs Go and libvips-dev (pkg-config vips); bench/renditions.ts builds and starts it, and
// skips it with a line saying why when either is missing. PORT and UPLOAD_DIR as the sharp
// peer; it exits when its stdin closes (the bench holds the other end), so it never outlives
// the bench, however the bench ends.
package main

import (
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/davidbyttow/govips/v2/vips"
)

// VIPS_MAX_COORD: a height that never binds, so the width alone decides the scale.
const anyHeight = 10_000_000

var storedName = regexp.MustCompile(`^[0-9a-f-]{36}\.jpg$`)

func main() {
	directory := os.Getenv("UPLOAD_DIR")
	if directory == "" {
		directory = "uploads"
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "3002"
	}

	vips.LoggingSettings(nil, vips.LogLevelError)
	vips.Startup(&vips.Config{ConcurrencyLevel: 1, MaxCacheFiles: 0, MaxCacheMem: 0, MaxCacheSize: 0})
	defer vips.Shutdown()

	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()

	http.HandleFunc("/render", func(w http.ResponseWriter, r *http.Request) {
		query := r.URL.Query()
		name := query.Get("name")
		width, err := strconv.Atoi(query.Get("w"))
		if !storedName.MatchString(name) || err != nil || width < 1 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		image, err := vips.NewThumbnailWithSizeFromFile(
			filepath.Join(directory, name), width, anyHeight, vips.InterestingNone, vips.SizeDown)
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		defer image.Close()
		params := vips.NewWebpExportParams()
		params.Quality = 75
		params.StripMetadata = true
		webp, _, err := image.ExportWebp(params)
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "image/webp")
		_, _ = w.Write(webp)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, nil))
}
