package bench

import (
	"fmt"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Plot writes a PNG of throughput and p99 latency against data size for
// one or more results (say, SQLite and PostgreSQL).
func Plot(path string, results ...*Result) error {
	if len(results) == 0 {
		return fmt.Errorf("nothing to plot")
	}
	thr := plot.New()
	thr.Title.Text = "Throughput"
	thr.Y.Label.Text = "per second"
	lat := plot.New()
	lat.Title.Text = "p99 latency (paced, from when due)"
	lat.Y.Label.Text = "milliseconds"
	for _, p := range []*plot.Plot{thr, lat} {
		p.X.Label.Text = "documents stored"
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = countTicks{}
		p.Y.Min = 0
		p.Legend.Top = true
		p.Legend.Left = true
		p.Add(plotter.NewGrid())
	}
	for ri, r := range results {
		if len(r.Points) == 0 {
			continue
		}
		series := func(f func(Point) float64) plotter.XYs {
			xy := make(plotter.XYs, len(r.Points))
			for i, p := range r.Points {
				xy[i].X, xy[i].Y = float64(p.Docs), f(p)
			}
			return xy
		}
		add := func(p *plot.Plot, k int, name string, xy plotter.XYs) error {
			l, pts, err := plotter.NewLinePoints(xy)
			if err != nil {
				return err
			}
			l.Color, pts.Color = plotutil.Color(k), plotutil.Color(k)
			l.Dashes = plotutil.Dashes(ri)
			pts.Shape = plotutil.Shape(ri)
			p.Add(l, pts)
			p.Legend.Add(name+" ("+r.Backend+")", l, pts)
			return nil
		}
		for k, s := range []struct {
			name string
			f    func(Point) float64
		}{
			{"archive", func(p Point) float64 { return p.ArchiveDocsPerS }},
			{"fetch", func(p Point) float64 { return p.Fetch.PerS }},
			{"list", func(p Point) float64 { return p.List.PerS }},
			{"search", func(p Point) float64 { return p.Search.PerS }},
		} {
			if err := add(thr, k, s.name, series(s.f)); err != nil {
				return err
			}
		}
		for k, s := range []struct {
			name string
			f    func(Point) float64
		}{
			{"fetch", func(p Point) float64 { return p.Fetch.P99ms }},
			{"list", func(p Point) float64 { return p.List.P99ms }},
			{"search", func(p Point) float64 { return p.Search.P99ms }},
		} {
			if err := add(lat, k+1, s.name, series(s.f)); err != nil {
				return err
			}
		}
	}
	// Headroom above the data for the legend.
	for _, p := range []*plot.Plot{thr, lat} {
		p.Y.Max *= 1.6
	}
	img := vgimg.New(vg.Points(1100), vg.Points(460))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(24), PadY: vg.Points(12), PadTop: vg.Points(8), PadBottom: vg.Points(8), PadLeft: vg.Points(8), PadRight: vg.Points(12)}
	cs := plot.Align([][]*plot.Plot{{thr, lat}}, tiles, dc)
	thr.Draw(cs[0][0])
	lat.Draw(cs[0][1])
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// countTicks marks the powers of ten on a log axis with counts written as
// the docs write them (100,000), and the steps between them unlabelled.
type countTicks struct{}

func (countTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for p := math.Pow(10, math.Floor(math.Log10(min))); p <= max; p *= 10 {
		for k := 1.0; k < 10; k++ {
			v := p * k
			if v < min || v > max {
				continue
			}
			t := plot.Tick{Value: v}
			if k == 1 {
				t.Label = count(int(math.Round(v)))
			}
			ts = append(ts, t)
		}
	}
	return ts
}
