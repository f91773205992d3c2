/* A self-contained interactive flame graph: one SVG with its own script
 * (no network).  Hovering a frame shows its label, samples and percent;
 * clicking zooms to it; the search box highlights frames matching a regular
 * expression and shows the percent of samples they cover.  Opening the file
 * with "#search=REGEX" runs that search at once, "#zoom=NAME" clicks the
 * first frame whose label starts with NAME (both: "#search=A&zoom=B"). */
#include "out/profile_out.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define WIDTH 1200
#define FRAME_H 16
#define TOP 60           /* title, details, search box */
#define BOTTOM 30
/* Frames narrower than this many pixels are not drawn (their samples still
 * count in their parents). */
#define MIN_PX 0.1

struct fg {
	FILE *f;
	const struct profile *p;
	unsigned max_depth;
	double scale;             /* pixels per sample */
	char *label;              /* scratch */
};

static void put_xml(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			/* Control characters are not allowed in XML 1.0. */
			fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
		}
	}
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int cmp_label(const void *a, const void *b, void *ctx)
{
	const struct profile *p = ctx;
	const struct pframe *fa = &p->frames[p->nodes[*(const uint32_t *)a].frame];
	const struct pframe *fb = &p->frames[p->nodes[*(const uint32_t *)b].frame];
	int c = strcmp(fa->function, fb->function);

	if (c)
		return c;
	c = strcmp(fa->file ? fa->file : "", fb->file ? fb->file : "");
	return c ? c : fa->line - fb->line;
}

static unsigned depth_of(const struct profile *p, uint32_t n)
{
	unsigned d = 0;

	for (; n; n = p->nodes[n].parent)
		d++;
	return d;
}

/* Draw node n (depth >= 1) starting at sample offset x, then its children
 * in label order.  Recursion depth is the stack depth, bounded by the
 * walker's frame limit. */
static void draw(struct fg *g, uint32_t n, uint64_t x, unsigned depth)
{
	const struct profile *p = g->p;
	const struct pnode *nd = &p->nodes[n];
	uint32_t *kids = NULL;
	size_t nkids = 0, cap = 0, i;
	double px = (double)x * g->scale, pw = (double)nd->total * g->scale;
	double py = TOP + (double)(g->max_depth - depth) * FRAME_H;
	uint32_t h;

	if (pw < MIN_PX)
		return;
	if (depth) {
		const struct pframe *fr = &p->frames[nd->frame];

		profile_frame_label(fr, g->label, 8192);
		h = name_hash(fr->function);
		fprintf(g->f, "<g class=\"f\" data-x=\"%llu\" data-s=\"%llu\">"
			"<title>", (unsigned long long)x,
			(unsigned long long)nd->total);
		put_xml(g->f, g->label);
		fprintf(g->f, " (%llu samples, %.2f%%)</title><rect x=\"%.2f\" "
			"y=\"%.0f\" width=\"%.2f\" height=\"%d\" fill=\"rgb(%u,%u,%u)\""
			" rx=\"2\"/><text x=\"%.2f\" y=\"%.0f\"></text></g>\n",
			(unsigned long long)nd->total,
			100.0 * (double)nd->total / (double)p->samples,
			px + 10, py, pw, FRAME_H - 1,
			fr->file ? 205 + h % 50 : 120, fr->file ? 80 + (h >> 8) % 150 : 160,
			fr->file ? 40 + (h >> 16) % 40 : 210,
			px + 13, py + FRAME_H - 4);
	}
	for (uint32_t c = nd->first_child; c; c = p->nodes[c].next_sibling) {
		XGROW(kids, cap, nkids + 1);
		kids[nkids++] = c;
	}
	if (nkids > 1)
		qsort_r(kids, nkids, sizeof(*kids), cmp_label, (void *)p);
	for (i = 0; i < nkids; i++) {
		draw(g, kids[i], x, depth + 1);
		x += p->nodes[kids[i]].total;
	}
	free(kids);
}

/* Written from scratch for snakescope: a frame's label lives in its
 * <title>; data-x and data-s are its first sample and sample count. */
static const char script[] =
"var frames=[],total=0,zx=0,zs=0,W=0,details,matched,errs,box;\n"
"window.onerror=function(m){errs.textContent+=m+' ';errs.setAttribute('display','inline');};\n"
"function label(g){var t=g.querySelector('title').textContent;return t.replace(/ \\(\\d+ samples, [0-9.]+%\\)$/,'');}\n"
"function init(){details=document.getElementById('details');matched=document.getElementById('matched');\n"
" errs=document.getElementById('errors');box=document.getElementById('search');\n"
" W=+document.documentElement.getAttribute('data-w');total=+document.documentElement.getAttribute('data-total');\n"
" var gs=document.querySelectorAll('g.f');\n"
" for(var i=0;i<gs.length;i++){var g=gs[i];var f={g:g,x:+g.getAttribute('data-x'),s:+g.getAttribute('data-s'),\n"
"  r:g.querySelector('rect'),t:g.querySelector('text'),name:label(g)};f.fill=f.r.getAttribute('fill');frames.push(f);\n"
"  g.onmouseover=(function(f){return function(){details.textContent=f.g.querySelector('title').textContent;};})(f);\n"
"  g.onmouseout=function(){details.textContent=' ';};\n"
"  g.onclick=(function(f){return function(){zoom(f.x,f.s);};})(f);}\n"
" box.addEventListener('input',function(){search(box.value);});\n"
" document.getElementById('unzoom').onclick=function(){zoom(0,total);};\n"
" zoom(0,total);\n"
" var hs=(location.hash||'').substring(1).split('&');\n"
" for(var j=0;j<hs.length;j++){var kv=hs[j].split('='),v=decodeURIComponent(kv[1]||'');\n"
"  if(kv[0]=='search'){box.value=v;search(v);}\n"
"  if(kv[0]=='zoom'){for(var k=0;k<frames.length;k++)if(frames[k].name.indexOf(v)==0){\n"
"   frames[k].g.dispatchEvent(new MouseEvent('click'));break;}}}}\n"
"function zoom(x,s){zx=x;zs=s;var k=W/s;\n"
" for(var i=0;i<frames.length;i++){var f=frames[i];var a=(f.x-x)*k,w=f.s*k;\n"
"  if(f.x+f.s<=x||f.x>=x+s||w<0.5){f.g.setAttribute('display','none');continue;}\n"
"  if(a<0){w+=a;a=0;}if(a+w>W)w=W-a;f.g.removeAttribute('display');\n"
"  f.r.setAttribute('x',(a+10).toFixed(2));f.r.setAttribute('width',w.toFixed(2));f.t.setAttribute('x',(a+13).toFixed(2));\n"
"  var n=Math.floor((w-6)/7);f.t.textContent=n<3?'':(f.name.length<=n?f.name:f.name.substring(0,n-2)+'..');}\n"
" document.getElementById('unzoom').setAttribute('opacity',s<total?1:0.3);}\n"
"function search(q){var re=null;if(q){try{re=new RegExp(q);}catch(e){re=null;}}\n"
" var hits=[];for(var i=0;i<frames.length;i++){var f=frames[i];\n"
"  var m=q&&(re?re.test(f.name):f.name.indexOf(q)>=0);f.r.setAttribute('fill',m?'rgb(230,0,230)':f.fill);if(m)hits.push(f);}\n"
" hits.sort(function(a,b){return a.x-b.x||b.s-a.s;});var sum=0,end=-1;\n"
" for(var j=0;j<hits.length;j++){var h=hits[j];if(h.x>=end){sum+=h.s;end=h.x+h.s;}else if(h.x+h.s>end){sum+=h.x+h.s-end;end=h.x+h.s;}}\n"
" matched.textContent=q?('Matched: '+(total?100*sum/total:0).toFixed(1)+'%'):' ';}\n";

int out_flamegraph(FILE *f, const struct profile *p,
		   const struct profile_meta *m, struct err *e)
{
	struct fg g = { .f = f, .p = p };
	unsigned height;

	for (size_t n = 1; n < p->nnodes; n++) {
		unsigned d = depth_of(p, (uint32_t)n);

		if (d > g.max_depth)
			g.max_depth = d;
	}
	height = TOP + (g.max_depth + 1) * FRAME_H + BOTTOM;
	g.scale = p->samples ? (double)(WIDTH - 20) / (double)p->samples : 0;
	g.label = xmalloc(8192);
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%d\" height=\"%u\" viewBox=\"0 0 %d %u\" data-w=\"%d\" "
		"data-total=\"%llu\" onload=\"init()\">\n",
		WIDTH, height, WIDTH, height, WIDTH - 20,
		(unsigned long long)p->samples);
	fputs("<style>text{font-family:monospace;font-size:12px;fill:#000}"
	      "g.f text{pointer-events:none}g.f:hover rect{stroke:#000;stroke-width:0.5}"
	      "#unzoom{cursor:pointer}#title{font-size:16px}</style>\n<script><![CDATA[\n",
	      f);
	fputs(script, f);
	fputs("]]></script>\n<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" "
	      "fill=\"#f8f8f0\"/>\n<text id=\"title\" x=\"600\" y=\"20\" "
	      "text-anchor=\"middle\">", f);
	put_xml(f, m->title);
	fprintf(f, " - %llu samples at %u Hz</text>\n",
		(unsigned long long)p->samples, m->rate_hz);
	fputs("<text id=\"unzoom\" x=\"10\" y=\"40\" opacity=\"0.3\">Reset zoom</text>\n"
	      "<foreignObject x=\"820\" y=\"26\" width=\"250\" height=\"24\">"
	      "<input xmlns=\"http://www.w3.org/1999/xhtml\" id=\"search\" "
	      "type=\"search\" placeholder=\"search (regular expression)\" "
	      "style=\"width:240px\"/></foreignObject>\n"
	      "<text id=\"matched\" x=\"1080\" y=\"42\"> </text>\n", f);
	fprintf(f, "<text id=\"details\" x=\"10\" y=\"%u\"> </text>\n"
		"<text id=\"errors\" x=\"10\" y=\"56\" display=\"none\" "
		"fill=\"red\"></text>\n<g id=\"frames\">\n", height - 10);
	draw(&g, 0, 0, 0);
	fputs("</g>\n</svg>\n", f);
	free(g.label);
	return out_check(f, e);
}
