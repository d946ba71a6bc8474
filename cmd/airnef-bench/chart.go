package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// bar is one measured value of the chart.
type bar struct {
	label string
	tool  string
	value float64
	text  string
	goal  float64 // a target on the same axis, drawn as a tick; 0: none
}

// panel is one horizontal bar chart: a linear axis from 0, or a log axis
// for times that differ by orders of magnitude.
type panel struct {
	title string
	bars  []bar
	log   bool
}

var toolColor = map[string]string{toolAirnef: "#2b6cb0", toolGphotofs: "#dd8a2b", toolGphoto2: "#8a8a8a"}

// chartSVG draws the copy shares, the listings and the folder opens of
// the run as an SVG image: plain shapes and text, readable as it is.
func (res *results) chartSVG() string {
	var panels []panel
	cp := panel{title: "Copy 12 x 3 MB: share of the link rate (higher is better; tick: the target)"}
	for _, s := range res.sections {
		if s.id != "copy" || s.profile.rate == 0 {
			continue
		}
		for _, r := range s.rows {
			if ok(r) {
				v := r.rate() / float64(s.profile.rate)
				goal := copyGoal[s.profile.name]
				cp.bars = append(cp.bars, bar{label: fmt.Sprintf("%s, %s %s", s.profile.name, r.tool, r.what), tool: r.tool, value: v, text: pct(v), goal: goal})
			}
		}
	}
	ls := panel{title: "Listing: mount + ls -lR, seconds (log scale, lower is better)", log: true}
	fo := panel{title: "Folder open: 20 RAW-sized files, seconds (log scale, lower is better)", log: true}
	pk := panel{title: "Peeks and scattered reads (20 photos), real programs, seconds (log scale, lower is better)", log: true}
	for _, s := range res.sections {
		vendor, _, _ := strings.Cut(s.card, ",")
		for _, r := range s.rows {
			if !ok(r) {
				continue
			}
			switch s.id {
			case "list":
				ls.bars = append(ls.bars, bar{label: fmt.Sprintf("%s %s %d files, %s %s", s.profile.name, vendor, r.files, r.tool, strings.TrimPrefix(r.what, "mount + ls -lR, ")), tool: r.tool, value: r.secs.median(), text: secs(r.secs.median()) + " s"})
			case "peek":
				pk.bars = append(pk.bars, bar{label: fmt.Sprintf("%s %s, %s", s.profile.name, r.what, r.tool), tool: r.tool, value: r.secs.median(), text: secs(r.secs.median()) + " s"})
			case "folder":
				fo.bars = append(fo.bars, bar{label: fmt.Sprintf("%s, %s", s.profile.name, r.tool), tool: r.tool, value: r.secs.median(), text: secs(r.secs.median()) + " s"})
			}
		}
	}
	for _, p := range []panel{cp, ls, fo, pk} {
		if len(p.bars) > 0 {
			panels = append(panels, p)
		}
	}

	const (
		width  = 960
		labelW = 400
		barW   = 440
		rowH   = 20
		titleH = 30
		gap    = 16
	)
	height := 10
	for _, p := range panels {
		height += titleH + rowH*len(p.bars) + gap
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	y := 10
	for _, p := range panels {
		fmt.Fprintf(&b, `<text x="4" y="%d" font-size="14" font-weight="bold">%s</text>`+"\n", y+18, html.EscapeString(p.title))
		y += titleH
		lo, hi := math.Inf(1), 0.0
		for _, br := range p.bars {
			lo, hi = math.Min(lo, br.value), math.Max(hi, br.value)
		}
		scale := func(v float64) float64 {
			if p.log {
				l := math.Log10(lo / 2)
				return (math.Log10(v) - l) / (math.Log10(hi) - l)
			}
			return v / math.Max(hi, 1)
		}
		for _, br := range p.bars {
			w := math.Max(1, float64(barW)*scale(br.value))
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelW-6, y+14, html.EscapeString(br.label))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, labelW, y+3, w, rowH-6, toolColor[br.tool])
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`+"\n", float64(labelW)+w+4, y+14, html.EscapeString(br.text))
			if br.goal > 0 {
				x := float64(labelW) + float64(barW)*scale(br.goal)
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black" stroke-width="2"/>`+"\n", x, y+1, x, y+rowH-1)
			}
			y += rowH
		}
		y += gap
	}
	b.WriteString("</svg>\n")
	return b.String()
}
