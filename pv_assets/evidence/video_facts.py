"""A video's evidence facts: the hashes of a few frames - pure, no store.

The same clip offered for two households is as much a reuse as a photo. Frames at a fifth, a half and four
fifths of the video are decoded (seeking to the keyframe before each: only those GOPs are read) and hashed;
the middle frame's pHash and dHash stand for the video, so videos cluster like photos. Bounded like the
poster frame: the frame size is checked before decoding, each frame holds its pixels of the process's budget,
and at most FRAMES_PER_SEEK frames are decoded looking for each time. Videos carry no EXIF: their camera
fields stay empty and `has_camera_data` unknown (no "no camera data" finding for a video).
"""

from __future__ import annotations

import time

from pv_assets.evidence.facts import PhotoFacts
from pv_assets.gallery.previews.bounds import RESOURCE, ResourceFailure, budget_for, check_pixels, is_resource_failure
from pv_assets.gallery.previews.render import Undecodable

FRAME_SHARES = (0.2, 0.5, 0.8)
FRAMES_PER_SEEK = 120  # a video whose frame times never arrive stops here
RETRIED = "retried on the next run"


def _frame_at(container, stream, at: float):
    if at > 0 and stream.time_base:
        container.seek(int(at / stream.time_base), stream=stream, backward=True)
    frame = None
    for decoded, frame in enumerate(container.decode(stream)):
        if frame.time is None or frame.time >= at - 1e-3 or decoded >= FRAMES_PER_SEEK:
            break
    return frame


def video_facts(source, max_pixels: int) -> PhotoFacts:
    """The facts of one video file (seekable). Raises Undecodable, TooManyPixels or ResourceFailure."""
    import av
    import imagehash

    started = time.thread_time()
    hashes: list[tuple[str, str]] = []
    try:
        with av.open(source, mode="r") as container:
            if not container.streams.video:
                raise Undecodable("undecodable video: no video stream")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            check_pixels(width, height, max_pixels, " (video frame)")
            duration = container.duration / 1_000_000 if container.duration else 0.0
            with budget_for(max_pixels).hold(width * height):
                for share in FRAME_SHARES:
                    frame = _frame_at(container, stream, duration * share)
                    if frame is not None:
                        image = frame.to_image()
                        hashes.append((str(imagehash.phash(image)), str(imagehash.dhash(image))))
    except MemoryError:
        raise ResourceFailure(f"{RESOURCE}: not enough memory to decode this video now; {RETRIED}") from None
    except av.FFmpegError as exc:
        if is_resource_failure(exc):
            raise ResourceFailure(f"{RESOURCE}: {exc.__class__.__name__} decoding this video; {RETRIED}") from None
        raise Undecodable(f"undecodable video: {exc.__class__.__name__}") from None
    if not hashes:
        raise Undecodable("undecodable video: no frame could be decoded")
    phash, dhash = hashes[len(hashes) // 2]
    return PhotoFacts(phash, dhash, None, None, None, None, None, None, round(time.thread_time() - started, 6))
