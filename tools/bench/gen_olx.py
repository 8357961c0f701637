#!/usr/bin/env python3
"""Writes a synthetic Open edX OLX course for the import throughput benchmark.

usage: gen_olx.py OUTDIR [MEGABYTES]   (default 200)

Layout: course.xml -> course/run.xml -> chapter/ -> sequential/ -> vertical/
-> problem/ (XML, about 20 KB each, so the XML volume is dominated by leaf
blocks as in real courses) and html/ (.xml stub + .html body). Deterministic.
"""
import os, random, sys

out = sys.argv[1]
target = int(sys.argv[2]) * 1000 * 1000 if len(sys.argv) > 2 else 200 * 1000 * 1000
rnd = random.Random(42)
WORDS = ("vector matrix basis kernel eigenvalue projection norm rank span linear map "
         "determinant inverse orthogonal subspace dimension scalar field transform").split()

def para(n):
    return " ".join(rnd.choice(WORDS) for _ in range(n))

for d in ("course", "chapter", "sequential", "vertical", "problem", "html", "about"):
    os.makedirs(os.path.join(out, d), exist_ok=True)
open(os.path.join(out, "course.xml"), "w").write('<course url_name="run" org="Bench" course="OLX200"/>\n')
open(os.path.join(out, "about", "effort.html"), "w").write("120:00\n")

total = 0
chapters = []
ch = seq = vert = prob = 0
while total < target:
    cid = "ch%04d" % ch; ch += 1
    seqs = []
    for s in range(8):
        sid = "seq%05d" % seq; seq += 1
        verts = []
        for v in range(4):
            vid = "v%06d" % vert; vert += 1
            blocks = []
            hid = "h%06d" % vert
            open(os.path.join(out, "html", hid + ".xml"), "w").write('<html filename="%s" display_name="Notes"/>\n' % hid)
            open(os.path.join(out, "html", hid + ".html"), "w").write("<p>%s&nbsp;&reg;</p>\n" % para(60))
            blocks.append('<html url_name="%s"/>' % hid)
            for p in range(5):
                pid = "p%07d" % prob; prob += 1
                body = ['<problem display_name="Problem %d">' % prob]
                for q in range(12):
                    body.append('  <multiplechoiceresponse><label>%s?</label><choicegroup type="MultipleChoice">' % para(25))
                    for a in range(4):
                        body.append('    <choice correct="%s">%s</choice>' % ("true" if a == 0 else "false", para(12)))
                    body.append('  </choicegroup></multiplechoiceresponse>')
                body.append('  <solution><p>%s</p></solution>\n</problem>\n' % para(80))
                text = "\n".join(body)
                open(os.path.join(out, "problem", pid + ".xml"), "w").write(text)
                total += len(text)
                blocks.append('<problem url_name="%s"/>' % pid)
            x = '<vertical display_name="Unit %s">\n  %s\n</vertical>\n' % (vid, "\n  ".join(blocks))
            open(os.path.join(out, "vertical", vid + ".xml"), "w").write(x)
            total += len(x)
            verts.append('<vertical url_name="%s"/>' % vid)
        x = '<sequential display_name="Lesson %s">\n  %s\n</sequential>\n' % (sid, "\n  ".join(verts))
        open(os.path.join(out, "sequential", sid + ".xml"), "w").write(x)
        seqs.append('<sequential url_name="%s"/>' % sid)
    x = '<chapter display_name="Chapter %s">\n  %s\n</chapter>\n' % (cid, "\n  ".join(seqs))
    open(os.path.join(out, "chapter", cid + ".xml"), "w").write(x)
    chapters.append('<chapter url_name="%s"/>' % cid)
open(os.path.join(out, "course", "run.xml"), "w").write(
    '<course display_name="Synthetic benchmark course">\n  %s\n</course>\n' % "\n  ".join(chapters))
print("chapters=%d sequentials=%d verticals=%d problems=%d xml_bytes~%d" % (ch, seq, vert, prob, total))
