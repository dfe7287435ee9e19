"""Memory and time of resuming a run of 1 M inputs (issue 22): the run journal (`lungseg.journal`, SQLite) with a synthetic
plan and 1 M finished rows. Prints the peak memory of the process and writes benchmarks/results/journal_memory.json.
Not a test.

    .venv/bin/python benchmarks/journal_memory.py [--n 1000000]

A child process writes a journal of N finished rows, as a run killed after its last image leaves it. A second, fresh
process does what `lungseg predict --resume` does with it: plans N inputs (synthetic paths fed to `Journal.plan`, so no
million files are made), marks the finished ones done (one row looked up per input, its outputs checked on disk: all
rows point at one existing file), and writes the final CSV from the journal. Its peak RSS (ru_maxrss) is the number;
the target is < 200 MB. For comparison, a third process loads the same rows the way a JSON-lines journal was resumed
before the engine: every row into one dict.
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time, shutil
from pathlib import Path

OUT = Path(__file__).resolve().parent/'results'/'journal_memory.json'
ROW = dict(status='ok', error='', height=2048, width=2500, lung_pixels=1234567, lung_fraction=0.241124, left_lung_fraction=0.11,
           right_lung_fraction=0.13, qc_score=0.0312, qc_flag=False, overlay='', dicom_seg='', model_sha256='78ebf29be4' * 6 + 'abcd')


def fake_inputs(n):
    for i in range(n): yield Path(f'/archive/cxr/p{i // 1000:04d}/study{i:07d}.dcm'), None


def write_journal(d, n):
    from lungseg.journal import Journal
    j, mask = Journal(d/'.predictions.partial.sqlite'), d/'one_mask.png'
    mask.write_bytes(b'png')
    j.db.execute('BEGIN')
    for f, _ in fake_inputs(n): j.add(dict(input=str(f), **ROW, mask=str(mask), run_key='k'), 'k')
    j.db.execute('COMMIT'); j.close()
    with open(d/'journal.jsonl', 'w') as fh:
        for f, _ in fake_inputs(n): fh.write(json.dumps(dict(input=str(f), **ROW, mask=str(mask), run_key='k')) + '\n')


def resume(d, n):
    from lungseg import engine, journal
    from lungseg.predict import CSV_COLS
    journal.iter_inputs = lambda inputs, skip=None: fake_inputs(n)   # the plan of N inputs without N files
    t = time.perf_counter()
    j = journal.Journal(d/'.predictions.partial.sqlite')
    planned = j.plan(['/archive/cxr'])
    kept = j.mark_done('k', lambda o, f, s: dict(mask=d/'one_mask.png'), d)
    engine.write_csv(d/'predictions.csv', j.final_rows(), CSV_COLS)
    j.close()
    return dict(planned=planned, kept=kept, seconds=round(time.perf_counter() - t, 1))


def old_resume(d, n):
    "What resuming a JSON-lines journal did: every row of the journal in one dict"
    rows = {}
    with open(d/'journal.jsonl') as fh:
        for l in fh: r = json.loads(l); rows[r['input']] = r
    return dict(rows=len(rows))


def child(what, d, n):
    res = globals()[what](Path(d), n) or {}
    res['peak_mb'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024, 1)
    print(json.dumps(res))


def run(what, d, n):
    r = subprocess.run([sys.executable, __file__, '--child', what, '--dir', str(d), '--n', str(n)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=1_000_000); ap.add_argument('--child'); ap.add_argument('--dir')
    a = ap.parse_args()
    if a.child: return child(a.child, a.dir, a.n)
    d = Path(tempfile.mkdtemp())
    try:
        t = time.perf_counter(); run('write_journal', d, a.n); t = time.perf_counter() - t
        new, old = run('resume', d, a.n), run('old_resume', d, a.n)
        assert new['planned'] == new['kept'] == a.n, new
        from lungseg.train import hardware
        rec = dict(n=a.n, journal_mb=round((d/'.predictions.partial.sqlite').stat().st_size/1e6, 1), write_journal_s=round(t, 1),
                   resume=new, dict_of_rows=old, target_mb=200, met=new['peak_mb'] < 200, hardware=hardware(), cpu_count=os.cpu_count(),
                   load_average=round(os.getloadavg()[0], 2), date=time.strftime('%Y-%m-%d %H:%M'))
        print(json.dumps(rec, indent=1))
        OUT.parent.mkdir(exist_ok=True); OUT.write_text(json.dumps(rec, indent=1))
    finally: shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__': main()
