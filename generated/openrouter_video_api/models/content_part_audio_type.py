from typing import Literal

ContentPartAudioType = Literal["audio_url"]

CONTENT_PART_AUDIO_TYPE_VALUES: set[ContentPartAudioType] = {
    "audio_url",
}


def check_content_part_audio_type(value: str) -> ContentPartAudioType:
    if value in CONTENT_PART_AUDIO_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {CONTENT_PART_AUDIO_TYPE_VALUES!r}")
