from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.video_generation_response_status import (
    VideoGenerationResponseStatus,
    check_video_generation_response_status,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.video_generation_usage import VideoGenerationUsage


T = TypeVar("T", bound="VideoGenerationResponse")


@_attrs_define
class VideoGenerationResponse:
    """
    Example:
        {'generation_id': 'gen-xyz789', 'id': 'job-abc123', 'polling_url': '/api/v1/videos/job-abc123', 'status':
            'pending'}

    Attributes:
        id (str): The video job ID, in the `gen-vid-<timestamp>-<20 alphanumerics>` generation ID format. Pass it as
            `previous_job_id` to continue the generation.
        polling_url (str):
        status (VideoGenerationResponseStatus):
        error (str | Unset):
        expires_at (int | Unset): Unix timestamp in seconds when OpenRouter's stored copy of the outputs stops being
            available. Present only when that copy exists.
        generation_id (str | Unset): The generation ID associated with this video generation job. Available once the job
            has been processed.
        unsigned_urls (list[str] | Unset): OpenRouter content URLs for each output. They need your API key in the
            `Authorization` header and keep working for as long as the output is available.
        urls (list[str] | Unset): Signed download URLs for OpenRouter's stored copy of each output, usable without an
            API key until `expires_at`. Anyone holding a URL can download that output until it expires, so treat it like a
            secret. Present only when the stored copy exists.
        usage (VideoGenerationUsage | Unset): Usage and cost information for the video generation. Available once the
            job has completed. Example: {'cost': 0.5, 'is_byok': False}.
    """

    id: str
    polling_url: str
    status: VideoGenerationResponseStatus
    error: str | Unset = UNSET
    expires_at: int | Unset = UNSET
    generation_id: str | Unset = UNSET
    unsigned_urls: list[str] | Unset = UNSET
    urls: list[str] | Unset = UNSET
    usage: VideoGenerationUsage | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        polling_url = self.polling_url

        status: str = self.status

        error = self.error

        expires_at = self.expires_at

        generation_id = self.generation_id

        unsigned_urls: list[str] | Unset = UNSET
        if not isinstance(self.unsigned_urls, Unset):
            unsigned_urls = self.unsigned_urls

        urls: list[str] | Unset = UNSET
        if not isinstance(self.urls, Unset):
            urls = self.urls

        usage: dict[str, Any] | Unset = UNSET
        if not isinstance(self.usage, Unset):
            usage = self.usage.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "polling_url": polling_url,
                "status": status,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if generation_id is not UNSET:
            field_dict["generation_id"] = generation_id
        if unsigned_urls is not UNSET:
            field_dict["unsigned_urls"] = unsigned_urls
        if urls is not UNSET:
            field_dict["urls"] = urls
        if usage is not UNSET:
            field_dict["usage"] = usage

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.video_generation_usage import VideoGenerationUsage  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        polling_url = d.pop("polling_url")

        status = check_video_generation_response_status(d.pop("status"))

        error = d.pop("error", UNSET)

        expires_at = d.pop("expires_at", UNSET)

        generation_id = d.pop("generation_id", UNSET)

        unsigned_urls = cast(list[str], d.pop("unsigned_urls", UNSET))

        urls = cast(list[str], d.pop("urls", UNSET))

        _usage = d.pop("usage", UNSET)
        usage: VideoGenerationUsage | Unset
        if isinstance(_usage, Unset):
            usage = UNSET
        else:
            usage = VideoGenerationUsage.from_dict(_usage)

        video_generation_response = cls(
            id=id,
            polling_url=polling_url,
            status=status,
            error=error,
            expires_at=expires_at,
            generation_id=generation_id,
            unsigned_urls=unsigned_urls,
            urls=urls,
            usage=usage,
        )

        video_generation_response.additional_properties = d
        return video_generation_response

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
