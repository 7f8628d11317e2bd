package main

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"math"
)

// The tray icon is drawn here rather than shipped as files: the blue
// rounded square with a white "W" of the dashboard's icon.svg.

var (
	iconBlue  = color.NRGBA{0x2f, 0x6f, 0xde, 0xff}
	iconPause = color.NRGBA{0xb7, 0x79, 0x1f, 0xff}
)

// drawIcon renders the icon at size x size pixels on background bg.
func drawIcon(size int, bg color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	s := float64(size) / 64
	// The W's polyline, in the 64-unit space of icon.svg.
	w := [][2]float64{{14, 20}, {21, 46}, {28, 28}, {32, 38}, {36, 28}, {43, 46}, {50, 20}}
	radius, half := 14*s, 2.5*s
	for y := range size {
		for x := range size {
			px, py := (float64(x)+0.5)/s, (float64(y)+0.5)/s
			if !insideRounded(px*s, py*s, float64(size), radius) {
				continue
			}
			c := bg
			for i := 0; i+1 < len(w); i++ {
				if segmentDistance(px, py, w[i], w[i+1])*s <= half {
					c = color.NRGBA{0xff, 0xff, 0xff, 0xff}
					break
				}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func insideRounded(x, y, size, r float64) bool {
	cx, cy := math.Min(math.Max(x, r), size-r), math.Min(math.Max(y, r), size-r)
	return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
}

func segmentDistance(px, py float64, a, b [2]float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := ((px-a[0])*dx + (py-a[1])*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	ex, ey := a[0]+t*dx-px, a[1]+t*dy-py
	return math.Hypot(ex, ey)
}

// iconPNG returns the icon as PNG bytes.
func iconPNG(size int, bg color.NRGBA) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, drawIcon(size, bg)); err != nil {
		panic(err) // encoding an in-memory image cannot fail
	}
	return b.Bytes()
}

// iconICO wraps the PNG icon in an ICO file, as Windows' tray wants it:
// one directory entry whose image is PNG data (read by Windows Vista and
// later; the ICO layout is Microsoft's "Icons" article, ICONDIR and
// ICONDIRENTRY).
func iconICO(size int, bg color.NRGBA) []byte {
	p := iconPNG(size, bg)
	var b bytes.Buffer
	dim := byte(size)
	if size >= 256 {
		dim = 0 // 0 means 256
	}
	le := binary.LittleEndian
	b.Write(le.AppendUint16(nil, 0))              // reserved
	b.Write(le.AppendUint16(nil, 1))              // type: icon
	b.Write(le.AppendUint16(nil, 1))              // one image
	b.Write([]byte{dim, dim, 0, 0})               // width, height, palette, reserved
	b.Write(le.AppendUint16(nil, 1))              // colour planes
	b.Write(le.AppendUint16(nil, 32))             // bits per pixel
	b.Write(le.AppendUint32(nil, uint32(len(p)))) // image size
	b.Write(le.AppendUint32(nil, 22))             // image offset: after the 6+16 header bytes
	b.Write(p)
	return b.Bytes()
}
