from typing import Literal

ContentPartImageType = Literal["image_url"]

CONTENT_PART_IMAGE_TYPE_VALUES: set[ContentPartImageType] = {
    "image_url",
}


def check_content_part_image_type(value: str) -> ContentPartImageType:
    if value in CONTENT_PART_IMAGE_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {CONTENT_PART_IMAGE_TYPE_VALUES!r}")
