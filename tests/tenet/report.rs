//! `tenet report`: the page's counts against `tenet table`, guardians' contacts kept out unless
//! asked for, text from the district escaped, failures that leave no half page, and the page in
//! a real browser: headless Chromium, driven over WebDriver by chromedriver, loads it, the
//! matrix renders, a filter narrows it and a row opens its explanation.

use crate::support::{Scratch, repo};
use crate::table::counted_from_the_table;
use std::path::Path;
use std::process::{Command, Output};

fn tenet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenet")).args(args).current_dir(repo()).output().expect("tenet runs")
}

/// Writes the bundled example's report into `dir` and returns its text.
fn report(dir: &Path, extra: &[&str]) -> String {
    let out = dir.join("report.html");
    let mut args = vec!["report", "--out", out.to_str().expect("a UTF-8 path")];
    args.extend_from_slice(extra);
    let run = tenet(&args);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stderr).contains("wrote "), "a closing line");
    std::fs::read_to_string(out).expect("the report was written")
}

/// The example's guardians' emails and phone numbers.
fn contacts() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("policies/examples/lakeside/directory.yaml")).expect("directory");
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).expect("YAML");
    let mut out = Vec::new();
    for g in yaml["guardians"].as_sequence().expect("guardians") {
        for key in ["email", "phone"] {
            if let Some(c) = g[key].as_str() {
                out.push(c.to_string());
            }
        }
    }
    assert!(out.len() > 5);
    out
}

/// The counts the page's summary table carries, per decision.
fn page_counts(html: &str) -> std::collections::BTreeMap<String, (usize, usize)> {
    let mut out = std::collections::BTreeMap::new();
    for row in html.split("<tr data-decision=\"").skip(1) {
        let attr = |name: &str| -> String {
            let start = row.find(&format!("{name}=\"")).expect("the attribute") + name.len() + 2;
            row[start..].split('"').next().expect("a value").to_string()
        };
        let name = row.split('"').next().expect("a name").to_string();
        let (a, d) = (attr("data-allowed").parse().expect("a count"), attr("data-denied").parse().expect("a count"));
        if a + d > 0 {
            out.insert(name, (a, d));
        }
    }
    out
}

#[test]
fn the_report_counts_what_the_table_lists_loads_nothing_and_hides_contacts() {
    let dir = Scratch::copy("policies/examples/lakeside", "report");
    let html = report(&dir.0, &[]);
    assert_eq!(page_counts(&html), counted_from_the_table(&[]));
    // Self-contained: no file or address is loaded.
    for outside in ["<link", " src=", "http://", "https://", "@import", "url("] {
        assert!(!html.contains(outside), "the page refers outside itself: {outside}");
    }
    for section in ["id=\"summary\"", "id=\"matrix\"", "id=\"blockers\"", "id=\"guardians\"", "id=\"import\"", "<svg"] {
        assert!(html.contains(section), "{section}");
    }
    // The top blockers come with a verified fix, or with why nothing can allow them.
    assert!(html.contains("Smallest fix") && html.contains("Nothing an admin changes allows it"));
    for c in contacts() {
        assert!(!html.contains(&c), "a guardian's contact is in the page");
    }
    assert!(html.contains("g:"), "guardians by pseudonym");
    let shown = report(&dir.0, &["--show-contacts"]);
    assert!(shown.contains("maria.kim@example.com") || contacts().iter().any(|c| shown.contains(c)));
}

#[test]
fn a_report_on_an_import_lists_its_sources() {
    let dir = Scratch::empty("report-import");
    let out = dir.0.join("r.html");
    let imports: Vec<String> = ["teams", "graph", "sds-v2.1", "supplement"]
        .iter()
        .map(|d| format!("tests/fixtures/exports/lakeside/{d}"))
        .collect();
    let mut args = vec!["report", "--out", out.to_str().expect("UTF-8")];
    for d in &imports {
        args.extend(["--import", d.as_str()]);
    }
    let run = tenet(&args);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let html = std::fs::read_to_string(out).expect("written");
    let sources = &html[html.find("id=\"import\"").expect("the sources section")..];
    assert!(sources.contains("status-found") && sources.contains("Get-CsOnlineUser"), "{sources}");
    assert!(html.contains("imported from tests/fixtures/exports/lakeside/teams"));
    // The same counts as the hand-written district: the import decides like it.
    assert_eq!(page_counts(&html), counted_from_the_table(&[]));
}

#[test]
fn text_from_the_district_is_escaped_in_the_page() {
    let dir = Scratch::copy("policies/examples/lakeside", "report-escape");
    dir.edit("directory.yaml", |t| {
        t.replace("name: Henry Adams", "name: \"<!--<script></script><b id=x>Henry & 'Co'\"")
    });
    let out = dir.0.join("r.html");
    let run = tenet(&["report", "--policies", dir.path(), "--out", out.to_str().expect("UTF-8")]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let html = std::fs::read_to_string(out).expect("written");
    assert!(!html.contains("</script><b id=x>") && !html.contains("<!--<script>"), "a name closed the script element");
    assert!(
        html.contains(r"\u003c!--\u003cscript>\u003c/script>\u003cb id=x>Henry & 'Co'"),
        "the name is in the data, escaped for a script"
    );
}

#[test]
fn a_report_that_cannot_be_written_is_an_error_and_leaves_nothing() {
    let dir = Scratch::copy("policies/examples/lakeside", "report-fail");
    let out = dir.0.join("no/such/folder/report.html");
    let run = tenet(&["report", "--out", out.to_str().expect("UTF-8")]);
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("can't write the report to") && err.contains("report.html"), "{err}");
    assert!(!out.exists() && !out.with_extension("html.partial").exists());
    assert_eq!(tenet(&["report"]).status.code(), Some(2), "--out is required");
}

// ------------------------------------------------------------------------------------------
// In a real browser

/// A chromedriver process, killed when dropped.
struct Driver {
    child: std::process::Child,
    base: String,
    session: String,
    profile: Scratch,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn post(url: &str, body: serde_json::Value) -> serde_json::Value {
    let mut response = ureq::post(url)
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap_or_else(|e| panic!("WebDriver {url}: {e}"));
    let text = response.body_mut().read_to_string().expect("a WebDriver answer");
    serde_json::from_str::<serde_json::Value>(&text).expect("JSON")["value"].clone()
}

impl Driver {
    /// Starts chromedriver and a headless Chromium session, or `None` when they aren't installed
    /// (CI installs them and sets `TENET_BROWSER_TESTS=require`, which makes their absence a failure).
    fn start() -> Option<Driver> {
        let chromium = std::env::var("TENET_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let chromedriver = std::env::var("TENET_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        if !Path::new(&chromium).exists() || !Path::new(&chromedriver).exists() {
            assert!(
                std::env::var("TENET_BROWSER_TESTS").as_deref() != Ok("require"),
                "TENET_BROWSER_TESTS=require but {chromium} or {chromedriver} is missing (apt-get install chromium chromium-driver)"
            );
            eprintln!(
                "skipped: the browser test needs {chromium} and {chromedriver} (Debian: chromium chromium-driver)"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let ready = (0..100).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(100));
            ureq::get(&format!("{base}/status")).call().is_ok()
        });
        let profile = Scratch::empty("chromium-profile");
        let mut driver = Driver { child, base, session: String::new(), profile };
        assert!(ready, "chromedriver answers on {}", driver.base);
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,1800",
        ]
        .map(String::from)
        .into_iter()
        .chain([format!("--user-data-dir={}", driver.profile.0.join("profile").display())])
        .collect::<Vec<_>>();
        let session = post(
            &format!("{}/session", driver.base),
            serde_json::json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"binary": chromium, "args": args}}}}),
        );
        driver.session = session["sessionId"].as_str().expect("a session").to_string();
        Some(driver)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}/{path}", self.base, self.session)
    }

    fn run(&self, script: &str) -> serde_json::Value {
        post(&self.url("execute/sync"), serde_json::json!({"script": script, "args": []}))
    }

    fn element(&self, css: &str) -> String {
        let found = post(&self.url("element"), serde_json::json!({"using": "css selector", "value": css}));
        found["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .into()
    }

    fn click(&self, css: &str) {
        let id = self.element(css);
        post(&self.url(&format!("element/{id}/click")), serde_json::json!({}));
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        post(&self.url(&format!("element/{id}/value")), serde_json::json!({"text": text}));
    }

    /// Waits (up to 5 s) for the page's script to finish drawing.
    fn page_ready(&self) -> bool {
        (0..50).any(|_| {
            let done = self.run("return document.body.dataset.ready === 'true'") == serde_json::json!(true);
            if !done {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            done
        })
    }

    fn rows(&self) -> u64 {
        self.run("return Number(document.body.dataset.rows)").as_u64().expect("the page counts its rows")
    }

    fn screenshot(&self, to: &Path) {
        let mut response = ureq::get(&self.url("screenshot")).call().expect("a screenshot");
        let text = response.body_mut().with_config().limit(64 << 20).read_to_string().expect("its answer");
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        use base64::Engine as _;
        let png =
            base64::engine::general_purpose::STANDARD.decode(value["value"].as_str().expect("base64")).expect("PNG");
        assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "a real picture ({} bytes)", png.len());
        std::fs::write(to, png).expect("the screenshot is saved");
    }
}

#[test]
fn the_report_renders_and_filters_in_a_real_browser() {
    let Some(driver) = Driver::start() else { return };
    let dir = Scratch::copy("policies/examples/lakeside", "report-browser");
    let _ = report(&dir.0, &[]);
    let page = format!("file://{}", dir.0.join("report.html").display());
    post(&driver.url("url"), serde_json::json!({"url": page}));
    assert!(driver.page_ready(), "the page's script ran");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"));
    driver.screenshot(&shots.join("report.png"));

    // The counts the browser shows are the table's.
    let shown = driver.run(
        "return [...document.querySelectorAll('#summary tr[data-decision]')].map(r => [r.dataset.decision, Number(r.cells[1].textContent), Number(r.cells[2].textContent)])",
    );
    let shown: std::collections::BTreeMap<String, (usize, usize)> = shown
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let n = |i: usize| usize::try_from(r[i].as_u64().expect("a number")).expect("fits");
            (r[0].as_str().expect("a name").to_string(), (n(1), n(2)))
        })
        .filter(|(_, (a, d))| a + d > 0)
        .collect();
    assert_eq!(shown, counted_from_the_table(&[]));

    // The matrix opens on the teachers: one row each, a cell per decision.
    let teachers = tenet(&["who", "--decision", "parents_app", "--role", "teacher", "--format", "csv"]);
    let teachers = String::from_utf8_lossy(&teachers.stdout).lines().count() as u64 - 1;
    assert_eq!(driver.rows(), teachers);
    let cells = driver.run("return document.querySelectorAll('#matrix tbody tr:first-child td.c').length");
    assert_eq!(cells.as_u64(), Some(12));

    // A filter: teachers denied chat with guardians, as `tenet who` lists them.
    driver.click("#f-decision option[value='1']");
    driver.click("#f-verdict option[value='denied']");
    let who = tenet(&["who", "--decision", "chat_with_guardians", "--role", "teacher", "--denied", "--format", "csv"]);
    assert_eq!(driver.rows(), String::from_utf8_lossy(&who.stdout).lines().count() as u64 - 1);
    assert_eq!(driver.rows(), 7);
    // The same, at one school: as `tenet who --school` lists them.
    driver.click("#f-school option:nth-child(2)");
    let school = driver.run("const s = document.getElementById('f-school'); return s.options[s.selectedIndex].text");
    let school = school.as_str().expect("a school").to_string();
    let who_at = tenet(&[
        "who",
        "--decision",
        "chat_with_guardians",
        "--role",
        "teacher",
        "--denied",
        "--school",
        &school,
        "--format",
        "csv",
    ]);
    let at_school = String::from_utf8_lossy(&who_at.stdout).lines().count() as u64 - 1;
    assert!(at_school > 0 && at_school < 7);
    assert_eq!(driver.rows(), at_school, "{school}");
    driver.click("#f-school option[value='']");
    driver.type_into("#f-search", "henry");
    assert_eq!(driver.rows(), 1);

    // The row opens its explanation, leading with the cause.
    driver.click("#matrix tbody tr[data-user]");
    let detail = driver.run("const d = document.getElementById('detail'); return d.hidden ? '' : d.textContent");
    let detail = detail.as_str().expect("text");
    assert!(detail.contains("Henry Adams") && detail.contains("CHAT_OFF"), "{detail}");
    assert!(detail.contains("tenet fix --user henry.adams@lakeside.edu --decision chat_with_guardians"), "{detail}");
    driver.screenshot(&shots.join("report-filtered.png"));

    // Grouped by school: a heading row per school.
    driver.click("#detail button.close");
    driver.run("document.getElementById('f-search').value = ''; return 0");
    driver.click("#f-verdict option[value='']");
    driver.click("#f-group option[value='school']");
    let headings = driver.run("return [...document.querySelectorAll('#matrix tr.group')].map(r => r.textContent)");
    assert_eq!(headings, serde_json::json!(["Lakeside High School", "Lakeside Middle School", "(in no school)"]));

    // A name written to break the page out of its data still draws as text.
    let odd = Scratch::copy("policies/examples/lakeside", "report-browser-odd");
    odd.edit("directory.yaml", |t| t.replace("name: Henry Adams", "name: \"<!--<script></script><b>Henry\""));
    let out = odd.0.join("odd.html");
    let run = tenet(&["report", "--policies", odd.path(), "--out", out.to_str().expect("UTF-8")]);
    assert_eq!(run.status.code(), Some(0));
    post(&driver.url("url"), serde_json::json!({"url": format!("file://{}", out.display())}));
    assert!(driver.page_ready(), "the page's script still ran");
    let names =
        driver.run("return [...document.querySelectorAll('#matrix tbody td:nth-child(2)')].map(c => c.textContent)");
    assert!(names.as_array().expect("names").iter().any(|n| n == "<!--<script></script><b>Henry"), "{names}");
    assert_eq!(driver.run("return document.querySelectorAll('#matrix b').length"), serde_json::json!(0));
}
