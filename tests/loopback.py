"""Servers the tests start on the loopback interface: a free port, a local Orthanc PACS with its DICOMweb plugin, and a
self-signed certificate for an HTTPS proxy in front of it.

Test plumbing, so it lives here and not in the `lungseg` package: `pip install lungseg` does not carry it. The pytest
tests import it directly (pytest puts `tests/` on the path); the notebooks that use it (05a_pacs, 07_testing) add
`tests/` to `sys.path` first. `make test` and `.ci/run` ask `orthanc_binary` whether Orthanc is installed.
"""
from __future__ import annotations
import base64, contextlib, json, os, shutil, socket, subprocess, tempfile, time, urllib.error, urllib.request
from pathlib import Path

ORTHANC_PLUGINS = ('/usr/share/orthanc/plugins/libOrthancDicomWeb.so', '/usr/lib/orthanc/libOrthancDicomWeb.so')


def free_port() -> int:
    "A TCP port that is free on the loopback interface now"
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def orthanc_binary():
    "Path of the Orthanc program and of its DICOMweb plugin, or None if either is not installed"
    exe = shutil.which('Orthanc') or next((p for p in ('/usr/sbin/Orthanc', '/usr/bin/Orthanc') if Path(p).exists()),
                                          None)
    plugin = next((p for p in ORTHANC_PLUGINS if Path(p).exists()), None)
    return (exe, plugin) if exe and plugin else None


def orthanc_missing(env:dict=None) -> str:
    "Why the Orthanc cells cannot run here ('' if they can); an error where `env` has LUNGSEG_REQUIRE_ORTHANC=1"
    if orthanc_binary(): return ''
    why = 'Orthanc with its DICOMweb plugin is not installed (apt-get install orthanc orthanc-dicomweb)'
    if (os.environ if env is None else env).get('LUNGSEG_REQUIRE_ORTHANC') == '1':
        raise RuntimeError(f"LUNGSEG_REQUIRE_ORTHANC=1 but {why}")
    return why


def orthanc_config(d:Path, port:int, plugin:str, users:dict=None, lua:str=None) -> dict:
    "Orthanc's configuration: storage in `d`, HTTP on loopback `port`, DICOMweb, basic auth for `users`, Lua `lua`"
    cfg = dict(Name='lungseg-test', StorageDirectory=str(d/'db'), IndexDirectory=str(d/'db'), HttpPort=port,
               RemoteAccessAllowed=False, DicomServerEnabled=False, Plugins=[plugin],
               DicomWeb=dict(Enable=True, Root='/dicom-web/'),
               AuthenticationEnabled=bool(users), RegisteredUsers=users or {})
    if lua:
        (d/'filter.lua').write_text(lua)
        cfg['LuaScripts'] = [str(d/'filter.lua')]
    return cfg


def _wait_up(p, url:str, auth, log:Path, timeout:float):
    "Wait until Orthanc process `p` answers at `url`; RuntimeError with its log's end if it exits or `timeout` passes"
    basic = {'Authorization': 'Basic ' + base64.b64encode(':'.join(auth).encode()).decode()} if auth else {}
    req = urllib.request.Request(url + '/studies', headers=basic)
    end = time.monotonic() + timeout
    while time.monotonic() < end and p.poll() is None:
        try:
            urllib.request.urlopen(req, timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError, OSError): time.sleep(0.1)
    how = 'exited ' + str(p.returncode) if p.poll() is not None else 'no answer'
    raise RuntimeError(f"Orthanc did not start ({how}): {log.read_text()[-800:]}")


@contextlib.contextmanager
def orthanc_server(d=None, users:dict=None, lua:str=None, timeout:float=30.):
    "Run Orthanc with DICOMweb on a free loopback port, storing in `d` (None: a temporary one); yield its DICOMweb root"
    found = orthanc_binary()
    if not found: raise FileNotFoundError("Orthanc is not installed: apt-get install orthanc orthanc-dicomweb")
    with tempfile.TemporaryDirectory(prefix='lungseg-orthanc-') as tmp:
        d = Path(d or tmp)
        d.mkdir(parents=True, exist_ok=True)
        port = free_port()
        (d/'orthanc.json').write_text(json.dumps(orthanc_config(d, port, found[1], users, lua), indent=1))
        with open(d/'orthanc.log', 'wb') as log:
            p = subprocess.Popen([found[0], str(d/'orthanc.json')], stdout=log, stderr=subprocess.STDOUT, cwd=d)
        url = f'http://127.0.0.1:{port}/dicom-web'
        try:
            _wait_up(p, url, next(iter(users.items())) if users else None, d/'orthanc.log', timeout)
            yield url
        finally:
            p.terminate()
            try: p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def self_signed_cert(d) -> Path:
    "A self-signed certificate for 127.0.0.1 in folder `d` by openssl: cert.pem (a client's CA bundle), key.pem"
    d = Path(d)
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', str(d/'key.pem'),
                    '-out', str(d/'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1',
                    '-addext', 'subjectAltName=IP:127.0.0.1'], check=True, capture_output=True)
    return d/'cert.pem'
