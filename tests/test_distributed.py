"""Where training runs, checked on the CPU: the device choice with CUDA faked as present, and training in two gloo
processes (spawned here, and launched by `lungseg train --gpus 2 --device cpu` through `accelerate launch`): only the
first process writes, and the valid Dice it reports counts the whole valid set, not one process's share."""
import json, os, sys
from pathlib import Path
import pytest, torch
import torch.multiprocessing as mp

from lungseg.data import manifest, sample_path
from loopback import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'experiments'))   # experiments/harness.py


def odd_valid():
    "The shipped sample with one valid image fewer (3): two processes then need fastai's padding, which the metrics must drop"
    df, _ = manifest(sample_path(), check=False)
    return df.drop(df.index[df.split == 'valid'][0]).reset_index(drop=True)


def join_env(rank, n, port):
    "The environment `accelerate launch` gives process `rank` of `n` on one machine"
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(n), LOCAL_WORLD_SIZE=str(n),
                      MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), GLOO_SOCKET_IFNAME='lo')


def spy(out, writes):
    "Note every file this process opens for writing, renames or removes under `out` (an audit hook), or saves there with `torch.save`"
    note = lambda p: os.path.abspath(p).startswith(out) and writes.append(os.path.relpath(os.path.abspath(p), out))
    save = torch.save
    def saving(obj, f, *a, **k):   # torch.save writes a path from C++, unseen by the audit hook
        if isinstance(f, (str, os.PathLike)): note(f)
        return save(obj, f, *a, **k)
    torch.save = saving
    def hook(ev, a):
        try:
            if ev == 'open' and isinstance(a[0], (str, bytes, os.PathLike)):
                p, mode, flags = os.fsdecode(a[0]), a[1], a[2]
                w = bool(mode and any(c in mode for c in 'wax+')) or bool(isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            elif ev in ('os.rename', 'os.replace', 'os.remove'): p, w = os.fsdecode(a[1] if ev != 'os.remove' else a[0]), True
            else: return
            if w: note(p)
        except Exception: pass
    sys.addaudithook(hook)


def gather_worker(rank, n, port, log):
    "Score 'lung everywhere' on this process's share of the valid set with `Gathered(Dice())` and with fastai's `Dice`"
    join_env(rank, n, port)
    torch.distributed.init_process_group('gloo', rank=rank, world_size=n)
    from types import SimpleNamespace
    from fastai.vision.all import Dice
    from lungseg.train import seg_dls, AnyBackendDL, Gathered
    dl = AnyBackendDL(seg_dls(odd_valid(), size=32, bs=1, aug=False, device='cpu').valid)
    g, d, seen, mine = Gathered(Dice()), Dice(), 0, 0
    g.reset(); d.reset()
    for _, y in dl:
        learn = SimpleNamespace(pred=torch.stack([torch.zeros(y.shape), torch.ones(y.shape)], 1), y=y, to_detach=dl.to_detach)
        g.accumulate(learn); d.accumulate(learn); mine += len(y); seen += len(learn.to_detach(y.as_subclass(torch.Tensor)))
    Path(log, f'{rank}.json').write_text(json.dumps(dict(gathered=g.value, local=d.value, seen=seen, mine=mine)))


def train_worker(rank, n, port, out, log):
    "Train one epoch of the shipped sample in process `rank` of `n`, noting the files it writes"
    join_env(rank, n, port)
    writes = []; spy(out, writes)
    from lungseg.train import train
    meta = train(df=odd_valid(), out=out, size=64, epochs=1, bs=4, lr=1e-3, quiet=True, device='cpu')
    Path(log, f'{rank}.json').write_text(json.dumps(dict(writes=writes, meta=meta), default=str))


def run(worker, tmp_path, *args):
    log = tmp_path/'log'; log.mkdir()
    mp.start_processes(worker, args=(2, free_port(), *args, str(log)), nprocs=2, start_method='spawn')
    return [json.loads((log/f'{r}.json').read_text()) for r in range(2)]


def whole_set_dice(weights, size=64):
    "Valid loss, Dice and IoU of `weights` in one process, over the whole valid set of `odd_valid()`"
    from lungseg.train import seg_dls, seg_learner
    learn = seg_learner(seg_dls(odd_valid(), size=size, bs=4, device='cpu'), 'plain8', size)
    learn.model.load_state_dict(torch.load(weights, weights_only=True))
    with learn.no_bar(), learn.no_logging(): return learn.validate()


def test_gathered_dice_counts_every_image_once(tmp_path):
    from fastai.vision.all import Dice
    from lungseg.train import seg_dls
    r = run(gather_worker, tmp_path)
    d = Dice(); d.reset()
    for _, y in seg_dls(odd_valid(), size=32, bs=1, aug=False, device='cpu').valid:
        d.accumulate(type('L', (), dict(pred=torch.stack([torch.zeros(y.shape), torch.ones(y.shape)], 1), y=y)))
    assert [x['mine'] for x in r] == [2, 2] and [x['seen'] for x in r] == [3, 3]   # 3 images, one repeated to even the shares
    assert r[0]['gathered'] == pytest.approx(d.value) and r[1]['gathered'] == pytest.approx(d.value)
    assert abs(r[0]['local'] - d.value) > 1e-3   # one process's share alone scores otherwise: the check above can fail


def test_two_processes_one_writer(tmp_path):
    out = tmp_path/'run'
    r0, r1 = run(train_worker, tmp_path, str(out))
    assert r1 == dict(writes=[], meta=None)   # the second process writes nothing and returns nothing
    assert {'config.json', 'history.csv', 'checkpoints/epoch_0.pth', 'lungseg.pth', 'lungseg.json', 'lungseg.onnx'} <= set(r0['writes'])
    m = r0['meta']
    assert (m['processes'], m['precision'], m['n_valid']) == (2, 'fp32', 3)
    assert m['hardware'].split('; ')[2].startswith('2 processes × CPU only')
    hist = (out/'history.csv').read_text().splitlines()
    assert len(hist) == 2 and hist[0].startswith('epoch,')   # one header, one epoch: one writer
    vl = whole_set_dice(out/'lungseg.pth')
    assert m['valid_dice'] == pytest.approx(float(vl[1]), abs=1e-6)
    logged = dict(zip(hist[0].split(','), hist[1].split(',')))
    assert float(logged['dice']) == pytest.approx(float(vl[1]), abs=1e-4)   # the epoch's Dice, gathered while training in two processes


def test_train_cmd_launches_processes(tmp_path, capsys):
    from lungseg.train import train_cmd
    out = tmp_path/'cli'
    assert train_cmd(str(sample_path()), str(out), size=64, epochs=1, bs=4, lr=1e-3, device='cpu', gpus=2) == 0
    m = json.loads((out/'lungseg.json').read_text())
    assert (m['processes'], m['epochs']) == (2, 1) and '2 processes × CPU only' in m['hardware']
    assert len((out/'history.csv').read_text().splitlines()) == 2


@pytest.fixture
def fake_cuda(monkeypatch):
    "CUDA reported present (this machine has none): a run that does not take `device='cpu'` fails on its first CUDA tensor"
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'get_device_name', lambda d=None: 'Fake GPU')
    monkeypatch.setattr(torch.cuda, 'current_device', lambda: 0)   # fastai asks for it (its default device) even when told the device


def test_device_choice(fake_cuda, monkeypatch):
    from lungseg.train import pick_device, hardware
    assert pick_device() == torch.device('cuda', 0) and pick_device('cpu') == torch.device('cpu')
    assert hardware().split('; ')[2] == 'Fake GPU' and hardware('cpu').split('; ')[2].startswith('CPU only')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(torch.backends.mps, 'is_available', lambda: True)
    assert pick_device() == torch.device('mps') and hardware().split('; ')[2] == 'Apple MPS'


def test_device_override_reaches_training(fake_cuda, tmp_path, capsys):
    from lungseg.train import train, train_cmd
    from harness import run_experiment
    df, _ = manifest(sample_path(), check=False)
    with pytest.raises(RuntimeError, match='NVIDIA'): train(df=df, out=tmp_path/'auto', size=64, epochs=1, bs=4, lr=1e-3, quiet=True)   # CUDA chosen
    assert train_cmd(str(sample_path()), str(tmp_path/'cmd'), size=64, epochs=1, bs=4, lr=1e-3, device='cpu') == 0
    m = json.loads((tmp_path/'cmd'/'lungseg.json').read_text())
    assert m['hardware'].split('; ')[2].startswith('CPU only') and m['precision'] == 'fp32'
    r = run_experiment('tiny', df, root=tmp_path/'exp', records=tmp_path/'rec', size=64, epochs=1, bs=4, lr=1e-3, device='cpu')
    assert r['hardware'].split('; ')[2].startswith('CPU only')
