from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.video_generation_request_provider_options import VideoGenerationRequestProviderOptions


T = TypeVar("T", bound="VideoGenerationRequestProvider")


@_attrs_define
class VideoGenerationRequestProvider:
    """Provider-specific passthrough configuration

    Attributes:
        options (VideoGenerationRequestProviderOptions | Unset):
    """

    options: VideoGenerationRequestProviderOptions | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        options: dict[str, Any] | Unset = UNSET
        if not isinstance(self.options, Unset):
            options = self.options.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if options is not UNSET:
            field_dict["options"] = options

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.video_generation_request_provider_options import VideoGenerationRequestProviderOptions  # noqa: PLC0415

        d = dict(src_dict)
        _options = d.pop("options", UNSET)
        options: VideoGenerationRequestProviderOptions | Unset
        if isinstance(_options, Unset):
            options = UNSET
        else:
            options = VideoGenerationRequestProviderOptions.from_dict(_options)

        video_generation_request_provider = cls(
            options=options,
        )

        video_generation_request_provider.additional_properties = d
        return video_generation_request_provider

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
