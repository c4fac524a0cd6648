#!/usr/bin/env bash
# What benchmarks/gpu_check.sh carries to a lent GPU machine, made here once, into .whl/ (which git
# ignores): for Python 3.12, the wheels that machine lacks (Keras with namex and optree; Ray,
# without the parts nst never loads, and jsonschema with the three it needs), at this checkout's
# versions; and a 720p clip as JPEG frames (that machine has no ffmpeg for an MP4). About 47 MiB:
# the working tree that travels, .whl included, must stay under 64 MiB. No weights: the check's
# timings do not depend on them, and it makes an untrained VGG19 there.
#
#   bash benchmarks/gpu_prepare.sh          (in the project's root; needs pip's index and ../shared)
set -euo pipefail
PYTHON=${PYTHON:-.venv/bin/python}
mkdir -p .whl
names="keras namex optree ray jsonschema jsonschema-specifications referencing rpds-py"
pinned=$($PYTHON -c "import sys; from importlib.metadata import version
print(' '.join(f'{name}=={version(name)}' for name in sys.argv[1:]))" $names)
rm -f .whl/*.whl
$PYTHON -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform any -d .whl $pinned
$PYTHON - <<'EOF'
"""Ray without Java, the dashboard's web page, and its libraries (RLlib, Data, Serve, Tune, Train,
LLM): 79 MB down to about 42. Its core, the runtime-env agent and the dashboard's Python stay."""
import base64
import hashlib
import zipfile
from pathlib import Path

UNUSED = ("jars/", "dashboard/client/", "rllib/", "data/", "serve/", "tune/", "train/", "llm/")
[wheel] = Path(".whl").glob("ray-*.whl")
kept = Path(".whl") / wheel.name.replace(".whl", ".trimmed")
with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(kept, "w", zipfile.ZIP_DEFLATED) as target:
    names = [item for item in source.infolist() if not item.filename.startswith(tuple(f"ray/{p}" for p in UNUSED))]
    record = next(item for item in names if item.filename.endswith(".dist-info/RECORD"))
    rows = []
    for item in names:
        if item is record:
            continue
        data = source.read(item)
        target.writestr(item, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"{item.filename},sha256={digest},{len(data)}")
    target.writestr(record, "\n".join([*rows, f"{record.filename},,"]) + "\n")
wheel.unlink()
kept.rename(wheel)
print(f"{wheel.name}: {wheel.stat().st_size / 2**20:.1f} MiB")
EOF
$PYTHON - <<'EOF'
"""The 720p clip: walkers-6s.mp4's first 24 frames (2.4 s), the middle 16:9 of each, 1280x720."""
from pathlib import Path

import imageio_ffmpeg
from PIL import Image

clip, folder = Path("../shared/videos/walkers-6s.mp4"), Path(".whl/walkers-720p")
folder.mkdir(exist_ok=True)
reader = imageio_ffmpeg.read_frames(str(clip))
width, height = next(reader)["size"]
for number, data in zip(range(1, 25), reader):
    frame = Image.frombytes("RGB", (width, height), data)
    band = round(width * 9 / 16)
    frame = frame.crop((0, (height - band) // 2, width, (height - band) // 2 + band))
    frame.resize((1280, 720), Image.Resampling.LANCZOS).save(folder / f"frame-{number:02d}.jpg", quality=90)
reader.close()
EOF
du -sh .whl
