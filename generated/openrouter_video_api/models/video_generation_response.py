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
        id (str):
        polling_url (str):
        status (VideoGenerationResponseStatus):
        error (str | Unset):
        generation_id (str | Unset): The generation ID associated with this video generation job. Available once the job
            has been processed.
        unsigned_urls (list[str] | Unset):
        usage (VideoGenerationUsage | Unset): Usage and cost information for the video generation. Available once the
            job has completed. Example: {'cost': 0.5, 'is_byok': False}.
    """

    id: str
    polling_url: str
    status: VideoGenerationResponseStatus
    error: str | Unset = UNSET
    generation_id: str | Unset = UNSET
    unsigned_urls: list[str] | Unset = UNSET
    usage: VideoGenerationUsage | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        polling_url = self.polling_url

        status: str = self.status

        error = self.error

        generation_id = self.generation_id

        unsigned_urls: list[str] | Unset = UNSET
        if not isinstance(self.unsigned_urls, Unset):
            unsigned_urls = self.unsigned_urls

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
        if generation_id is not UNSET:
            field_dict["generation_id"] = generation_id
        if unsigned_urls is not UNSET:
            field_dict["unsigned_urls"] = unsigned_urls
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

        generation_id = d.pop("generation_id", UNSET)

        unsigned_urls = cast(list[str], d.pop("unsigned_urls", UNSET))

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
            generation_id=generation_id,
            unsigned_urls=unsigned_urls,
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
