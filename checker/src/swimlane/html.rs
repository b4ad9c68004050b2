//! The swimlane as one self-contained HTML page: inline style and script, no network, so it
//! opens from a CI artifact or a mail attachment.

use super::{Held, Row, StepKind, Swimlane};
use std::collections::BTreeSet;
use std::fmt::Write;

/// `s` escaped for HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "
body{font:13px/1.35 system-ui,sans-serif;margin:0;color:#222}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;padding:6px 10px;z-index:2}
h1{font-size:16px;margin:0 0 4px}
.vtext{color:#a00;font-weight:600;white-space:pre-wrap;margin:2px 0}
#filters label{margin-right:10px}
table{border-collapse:collapse;margin:0 10px 40px}
th{position:sticky;top:0;background:#eef;border:1px solid #ccd;padding:3px 6px;font-weight:600}
td{border-left:1px solid #ddd;border-right:1px solid #ddd;padding:2px 6px;vertical-align:top;position:relative}
td.st{color:#888;text-align:right}
td.src{color:#555;max-width:26em;font-size:12px}
td.src code{color:#036}
td.lane{min-width:11em;max-width:22em;padding-left:18px}
tr.step:hover{background:#f6f6ff;cursor:pointer}
tr.sel{background:#ffe!important}
.bars{position:absolute;left:1px;top:0;bottom:0;width:16px}
.bars i{position:absolute;top:0;bottom:0;width:3px}
.bars i.x{background:#2a6}
.bars i.s{background:repeating-linear-gradient(#2a6 0 3px,transparent 3px 6px)}
.bars i.b1{left:4px}.bars i.b2{left:8px}.bars i.b3{left:12px}
td.zz{background:repeating-linear-gradient(45deg,#f0f0f8 0 4px,#fff 4px 8px)}
.ev{font-family:ui-monospace,monospace;font-size:12px}
.k-acq{color:#185}.k-rel{color:#575}.k-cont{color:#b60}.k-lost{color:#c40;font-weight:600}
.k-back{color:#185}.k-sleep{color:#34a;font-weight:600}.k-woke{color:#34a}
.k-wake{color:#818}.k-nobody{color:#c00;font-weight:600}.k-freed{color:#a00}
.nobody{display:inline-block;border:1px dashed #c00;color:#c00;padding:0 3px;margin-left:4px}
.woken{color:#818;font-weight:600}
td.wire{background:linear-gradient(#818,#818) center/100% 2px no-repeat}
tr.violation td{background:#fdd;color:#900;font-weight:600;white-space:pre-wrap;border:2px solid #c00}
#detail{position:fixed;right:10px;bottom:10px;max-width:40em;background:#fff;border:1px solid #888;
 padding:8px;white-space:pre-wrap;font:12px ui-monospace,monospace;box-shadow:0 2px 8px #0003}
";

const SCRIPT: &str = "
window.onerror=function(m){document.body.setAttribute('data-error',String(m));};
(function(){
var style=document.createElement('style');document.head.appendChild(style);
var hidden={};
function apply(){
 var css='';for(var l in hidden){if(hidden[l])css+='.l'+l+'{display:none}';}
 style.textContent=css;
 var o=document.getElementById('obj').value,rel=document.getElementById('rel').checked;
 var rows=document.querySelectorAll('tr.step');
 for(var i=0;i<rows.length;i++){var r=rows[i];
  var show=(!rel||r.classList.contains('rel'))&&(!o||('|'+r.getAttribute('data-o')+'|').indexOf('|'+o+'|')>=0);
  r.style.display=show?'':'none';}
}
var boxes=document.querySelectorAll('input[data-lane]');
for(var i=0;i<boxes.length;i++){boxes[i].addEventListener('change',function(e){
 hidden[e.target.getAttribute('data-lane')]=!e.target.checked;apply();});}
document.getElementById('obj').addEventListener('change',apply);
document.getElementById('rel').addEventListener('change',apply);
var sel=null;
document.getElementById('lanes').addEventListener('click',function(e){
 var r=e.target.closest('tr.step');if(!r)return;
 if(sel)sel.classList.remove('sel');sel=r;r.classList.add('sel');
 var d=document.getElementById('detail');d.textContent=r.getAttribute('data-d');d.hidden=false;});
document.getElementById('detail').addEventListener('click',function(e){e.target.hidden=true;});
if(location.hash==='#related'){document.getElementById('rel').checked=true;apply();}
document.body.setAttribute('data-ms',String(Math.round(performance.now())));
document.body.setAttribute('data-ready','1');
})();
";

fn bars(held: &[Held]) -> String {
    let mut s = String::new();
    for (i, h) in held.iter().take(4).enumerate() {
        let _ = write!(
            s,
            "<i class=\"{} b{i}\" title=\"{}{}\"></i>",
            if h.shared { "s" } else { "x" },
            esc(&h.token),
            if h.shared { " (shared)" } else { "" }
        );
    }
    if s.is_empty() {
        s
    } else {
        format!("<span class=\"bars\">{s}</span>")
    }
}

fn detail(sw: &Swimlane, r: &Row) -> String {
    let mut d = format!(
        "step {} by {}\n{} {}:{}\n{}",
        r.step, sw.lanes[r.lane], r.function, r.file, r.line, r.what
    );
    if let Some(src) = &r.source {
        let _ = write!(d, "\n  | {src}");
    }
    if !r.objects.is_empty() {
        let _ = write!(d, "\nobjects: {}", r.objects.join(", "));
    }
    for (l, held) in r.held.iter().enumerate() {
        if !held.is_empty() {
            let names: Vec<String> = held
                .iter()
                .map(|h| format!("{}{}", h.token, if h.shared { " (shared)" } else { "" }))
                .collect();
            let _ = write!(d, "\n{} holds {}", sw.lanes[l], names.join(", "));
        }
    }
    d
}

fn row_html(sw: &Swimlane, r: &Row, out: &mut String) {
    let class = format!(
        "step k-{}{}",
        r.kind.class(),
        if r.related { " rel" } else { "" }
    );
    let _ = write!(
        out,
        "<tr class=\"{class}\" data-o=\"{}\" data-d=\"{}\"><td class=\"st\">{}</td><td class=\"src\">{} {}:{}",
        esc(&r.objects.join("|")),
        esc(&detail(sw, r)),
        r.step,
        esc(r.function),
        esc(r.file),
        r.line
    );
    if let Some(src) = &r.source {
        let _ = write!(out, "<br><code>{}</code>", esc(src));
    }
    out.push_str("</td>");
    // Lanes between the waker and the lanes it woke carry the wakeup's wire.
    let span = r
        .woke
        .iter()
        .map(|w| (r.lane.min(*w), r.lane.max(*w)))
        .fold(None, |acc: Option<(usize, usize)>, (a, b)| match acc {
            None => Some((a, b)),
            Some((x, y)) => Some((x.min(a), y.max(b))),
        });
    for l in 0..sw.lanes.len() {
        let mut cls = format!("lane l{l}");
        if r.asleep[l].is_some() && l != r.lane {
            cls.push_str(" zz");
        }
        if span.is_some_and(|(a, b)| l > a && l < b && !r.woke.contains(&l)) {
            cls.push_str(" wire");
        }
        let title = r.asleep[l]
            .as_ref()
            .map(|w| format!(" title=\"asleep in &quot;{}&quot;\"", esc(w)))
            .unwrap_or_default();
        let _ = write!(out, "<td class=\"{cls}\"{title}>{}", bars(&r.held[l]));
        if l == r.lane {
            let _ = write!(
                out,
                "<span class=\"ev k-{}\">{}</span>",
                r.kind.class(),
                esc(&r.what)
            );
            if r.kind == StepKind::WakeupNobody {
                out.push_str("<span class=\"nobody\" title=\"this wakeup found nobody asleep\">&rarr; nobody</span>");
            }
        } else if r.woke.contains(&l) {
            out.push_str("<span class=\"woken\">&#9664; woken</span>");
        }
        out.push_str("</td>");
    }
    out.push_str("</tr>\n");
}

/// The whole page.
pub fn render(sw: &Swimlane) -> String {
    let mut out = String::with_capacity(2048 + sw.rows.len() * 160 * (sw.lanes.len() + 2));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>kexit: {}</title><style>{STYLE}</style></head><body>\n<header><h1>{}</h1>",
        esc(&sw.title),
        esc(&sw.title)
    );
    if let Some((v, _)) = &sw.violation {
        let _ = write!(out, "<p class=\"vtext\">{}</p>", esc(v));
    }
    out.push_str("<div id=\"filters\">lanes: ");
    for (l, name) in sw.lanes.iter().enumerate() {
        let _ = write!(
            out,
            "<label><input type=\"checkbox\" data-lane=\"{l}\" checked> {}</label>",
            esc(name)
        );
    }
    let objects: BTreeSet<&String> = sw.rows.iter().flat_map(|r| &r.objects).collect();
    out.push_str("<label>object: <select id=\"obj\"><option value=\"\">all</option>");
    for o in objects {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", esc(o));
    }
    out.push_str("</select></label><label><input type=\"checkbox\" id=\"rel\"> only steps about the violation</label></div></header>\n");
    out.push_str("<table id=\"lanes\"><thead><tr><th>step</th><th>where</th>");
    for (l, name) in sw.lanes.iter().enumerate() {
        let _ = write!(out, "<th class=\"lane l{l}\">{}</th>", esc(name));
    }
    out.push_str("</tr></thead><tbody>\n");
    for r in &sw.rows {
        row_html(sw, r, &mut out);
    }
    if let Some((v, _)) = &sw.violation {
        let _ = writeln!(
            out,
            "<tr class=\"violation\"><td colspan=\"{}\">{}</td></tr>",
            sw.lanes.len() + 2,
            esc(v)
        );
    }
    let _ = writeln!(
        out,
        "</tbody></table><aside id=\"detail\" hidden></aside><script>{SCRIPT}</script></body></html>"
    );
    out
}
