"""torchrun's side of training: join the process group, find each process's rank and device,
and sum metrics over processes. :mod:`lightnets.train` calls these; on one process they do
nothing (rank 0 of a world of 1)."""
from __future__ import annotations

import os
from typing import Sequence

import torch
import torch.distributed as dist


def join_from_environment() -> bool:
    """Join the process group when torchrun started us with more than one process."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size() > 1
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
        return True
    return False


def rank_and_world(distributed: bool) -> tuple[int, int]:
    return (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)


def default_device(distributed: bool) -> torch.device:
    if torch.cuda.is_available():
        if distributed:
            local_rank = int(os.environ.get("LOCAL_RANK", "0"))
            torch.cuda.set_device(local_rank)
            return torch.device("cuda", local_rank)
        return torch.device("cuda")
    return torch.device("cpu")


def sum_over_processes(values: Sequence[float], device: torch.device,
                        distributed: bool) -> list[float]:
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    if distributed:
        dist.all_reduce(tensor)
    return tensor.tolist()
