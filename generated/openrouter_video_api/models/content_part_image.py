from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.content_part_image_type import ContentPartImageType, check_content_part_image_type

if TYPE_CHECKING:
    from ..models.content_part_image_image_url import ContentPartImageImageUrl


T = TypeVar("T", bound="ContentPartImage")


@_attrs_define
class ContentPartImage:
    """
    Example:
        {'image_url': {'url': 'https://example.com/image.png'}, 'type': 'image_url'}

    Attributes:
        image_url (ContentPartImageImageUrl):
        type_ (ContentPartImageType):
    """

    image_url: ContentPartImageImageUrl
    type_: ContentPartImageType
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        image_url = self.image_url.to_dict()

        type_: str = self.type_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "image_url": image_url,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.content_part_image_image_url import ContentPartImageImageUrl  # noqa: PLC0415

        d = dict(src_dict)
        image_url = ContentPartImageImageUrl.from_dict(d.pop("image_url"))

        type_ = check_content_part_image_type(d.pop("type"))

        content_part_image = cls(
            image_url=image_url,
            type_=type_,
        )

        content_part_image.additional_properties = d
        return content_part_image

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
