"""init_module_ on DTensor parameters: each rank gets exactly its slice of a
single-process init. 2 and 4 local processes (gloo, loopback only) for
row-wise Shard(0), column-wise Shard(1) and a 2x2 mesh (Shard(0), Shard(1));
the shapes split unevenly (10 rows on 4 ranks) and the fused attention
weight's blocks straddle shards.
"""
import socket
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
import torch.distributed as dist  # noqa: E402

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                                reason="torch.distributed with gloo is not available")

WORKER = r"""
import sys
import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import Replicate, Shard, distribute_tensor
import initcore.torch as it

rank, world, port = map(int, sys.argv[1:4])
dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
layouts = {"rows": ((world,), (Shard(0),)), "columns": ((world,), (Shard(1),))}
if world == 4:
    layouts["2-D"] = ((2, 2), (Shard(0), Shard(1)))


def build():
    return nn.ModuleDict({"a": nn.Linear(12, 10), "norm": nn.LayerNorm(10), "b": nn.Linear(10, 6),
                          "attn": nn.MultiheadAttention(8, 2)})


for layout, (mesh_shape, placements) in layouts.items():
    mesh = init_device_mesh("cpu", mesh_shape)
    vector = (Shard(0),) + (Replicate(),) * (len(mesh_shape) - 1)
    for preset in ("xavier", "torch", "orthogonal"):
        reference = build()
        it.init_module_(reference, preset, seed=3)
        model = build()
        for module in list(model.modules()):
            for name, p in list(module.named_parameters(recurse=False)):
                spec = placements if p.dim() >= 2 else vector
                setattr(module, name, nn.Parameter(distribute_tensor(p.detach(), mesh, spec)))
        it.init_module_(model, preset, seed=3)
        expected = dict(reference.named_parameters())
        for name, p in model.named_parameters():
            assert torch.equal(p.full_tensor(), expected[name]), (layout, preset, name)
dist.destroy_process_group()
print("ok", rank)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ranks(world, cwd):
    """[(return code, stdout, stderr)] of `world` worker processes."""
    port = free_port()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(rank), str(world), str(port)], cwd=cwd,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for rank in range(world)]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    return [(proc.returncode, out, err) for proc, (out, err) in zip(procs, outputs)]


@pytest.mark.parametrize("world", [2, 4])
def test_each_rank_gets_its_slice_of_the_single_process_init(world, tmp_path):
    for _ in range(3):  # another process may take the free port between its lookup and rank 0's bind
        results = run_ranks(world, tmp_path)
        if not any("EADDRINUSE" in err or "address already in use" in err.lower() for _, _, err in results):
            break
    for rank, (code, out, err) in enumerate(results):
        assert code == 0 and out.strip() == f"ok {rank}", f"rank {rank}:\n{err[-3000:]}"
