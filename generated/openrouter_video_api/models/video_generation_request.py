from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.video_generation_request_aspect_ratio import (
    VideoGenerationRequestAspectRatio,
    check_video_generation_request_aspect_ratio,
)
from ..models.video_generation_request_resolution import (
    VideoGenerationRequestResolution,
    check_video_generation_request_resolution,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.content_part_audio import ContentPartAudio
    from ..models.content_part_image import ContentPartImage
    from ..models.content_part_video import ContentPartVideo
    from ..models.frame_image import FrameImage
    from ..models.trace_config import TraceConfig
    from ..models.video_generation_request_provider import VideoGenerationRequestProvider


T = TypeVar("T", bound="VideoGenerationRequest")


@_attrs_define
class VideoGenerationRequest:
    """
    Example:
        {'aspect_ratio': '16:9', 'duration': 8, 'model': 'google/veo-3.1', 'prompt': 'A serene mountain landscape at
            sunset', 'resolution': '720p'}

    Attributes:
        model (str):
        aspect_ratio (VideoGenerationRequestAspectRatio | Unset): Aspect ratio of the generated video Example: 16:9.
        callback_url (str | Unset): URL to receive a webhook notification when the video generation job completes.
            Overrides the workspace-level default callback URL if set. Must be HTTPS. Example: https://example.com/webhook.
        creativity (int | Unset): Creativity level for video upscaling models only. This parameter is not supported by
            video generation models. Example: 1.
        duration (int | Unset): Duration of the generated video in seconds Example: 8.
        frame_images (list[FrameImage] | Unset): Images to use as the first and/or last frame of the generated video.
            Each image must specify a frame_type of first_frame or last_frame.
        generate_audio (bool | Unset): Whether to generate audio alongside the video. Defaults to the endpoint's
            generate_audio capability flag, false if not set. Example: True.
        input_references (list[ContentPartAudio | ContentPartImage | ContentPartVideo] | Unset): Reference assets to
            guide video generation. Accepts image, audio, and video references. Audio and video references are only honored
            by providers that support them (including BytePlus Seedance generation 2 and newer); other providers use image
            references and ignore the rest.
        previous_job_id (str | Unset): ID of a completed video job to edit or extend, as returned by the submit
            response. The new job runs on the same model and endpoint that produced the previous one. Only models that
            support continuation accept this field.
        prompt (str | Unset): Text prompt describing the video to generate. Optional for models that support generating
            a video from image input alone; required by all other models. Example: A serene mountain landscape at sunset.
        provider (VideoGenerationRequestProvider | Unset): Provider-specific passthrough configuration
        resolution (VideoGenerationRequestResolution | Unset): Resolution of the generated video Example: 720p.
        seed (int | Unset): If specified, the generation will sample deterministically, such that repeated requests with
            the same seed and parameters should return the same result. Determinism is not guaranteed for all providers.
        session_id (str | Unset): A unique identifier for grouping related requests (e.g., a conversation or agent
            workflow). Used for observability grouping in Broadcast and private logging; never sent to the provider. If
            provided in both the request body and the x-session-id header, the body value takes precedence. Maximum of 256
            characters.
        size (str | Unset): Exact pixel dimensions of the generated video in "WIDTHxHEIGHT" format (e.g. "1280x720").
            Interchangeable with resolution + aspect_ratio. Example: 1280x720.
        trace (TraceConfig | Unset): Metadata for observability and tracing. Known keys (trace_id, trace_name,
            span_name, generation_name, parent_span_id) have special handling. Additional keys are passed through as custom
            metadata to configured broadcast destinations. Example: {'trace_id': 'trace-abc123', 'trace_name': 'my-app-
            trace'}.
        upscale_factor (float | Unset): Upscale factor for video upscaling models only. This parameter is not supported
            by video generation models. Example: 2.
        user (str | Unset): A unique identifier representing your end-user. Forwarded to Broadcast and private logging
            as the end-user id; never sent to the provider.
    """

    model: str
    aspect_ratio: VideoGenerationRequestAspectRatio | Unset = UNSET
    callback_url: str | Unset = UNSET
    creativity: int | Unset = UNSET
    duration: int | Unset = UNSET
    frame_images: list[FrameImage] | Unset = UNSET
    generate_audio: bool | Unset = UNSET
    input_references: list[ContentPartAudio | ContentPartImage | ContentPartVideo] | Unset = UNSET
    previous_job_id: str | Unset = UNSET
    prompt: str | Unset = UNSET
    provider: VideoGenerationRequestProvider | Unset = UNSET
    resolution: VideoGenerationRequestResolution | Unset = UNSET
    seed: int | Unset = UNSET
    session_id: str | Unset = UNSET
    size: str | Unset = UNSET
    trace: TraceConfig | Unset = UNSET
    upscale_factor: float | Unset = UNSET
    user: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.content_part_audio import ContentPartAudio  # noqa: PLC0415
        from ..models.content_part_image import ContentPartImage  # noqa: PLC0415

        model = self.model

        aspect_ratio: str | Unset = UNSET
        if not isinstance(self.aspect_ratio, Unset):
            aspect_ratio = self.aspect_ratio

        callback_url = self.callback_url

        creativity = self.creativity

        duration = self.duration

        frame_images: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.frame_images, Unset):
            frame_images = []
            for frame_images_item_data in self.frame_images:
                frame_images_item = frame_images_item_data.to_dict()
                frame_images.append(frame_images_item)

        generate_audio = self.generate_audio

        input_references: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.input_references, Unset):
            input_references = []
            for input_references_item_data in self.input_references:
                input_references_item: dict[str, Any]
                if isinstance(input_references_item_data, ContentPartImage):
                    input_references_item = input_references_item_data.to_dict()
                elif isinstance(input_references_item_data, ContentPartAudio):
                    input_references_item = input_references_item_data.to_dict()
                else:
                    input_references_item = input_references_item_data.to_dict()

                input_references.append(input_references_item)

        previous_job_id = self.previous_job_id

        prompt = self.prompt

        provider: dict[str, Any] | Unset = UNSET
        if not isinstance(self.provider, Unset):
            provider = self.provider.to_dict()

        resolution: str | Unset = UNSET
        if not isinstance(self.resolution, Unset):
            resolution = self.resolution

        seed = self.seed

        session_id = self.session_id

        size = self.size

        trace: dict[str, Any] | Unset = UNSET
        if not isinstance(self.trace, Unset):
            trace = self.trace.to_dict()

        upscale_factor = self.upscale_factor

        user = self.user

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
            }
        )
        if aspect_ratio is not UNSET:
            field_dict["aspect_ratio"] = aspect_ratio
        if callback_url is not UNSET:
            field_dict["callback_url"] = callback_url
        if creativity is not UNSET:
            field_dict["creativity"] = creativity
        if duration is not UNSET:
            field_dict["duration"] = duration
        if frame_images is not UNSET:
            field_dict["frame_images"] = frame_images
        if generate_audio is not UNSET:
            field_dict["generate_audio"] = generate_audio
        if input_references is not UNSET:
            field_dict["input_references"] = input_references
        if previous_job_id is not UNSET:
            field_dict["previous_job_id"] = previous_job_id
        if prompt is not UNSET:
            field_dict["prompt"] = prompt
        if provider is not UNSET:
            field_dict["provider"] = provider
        if resolution is not UNSET:
            field_dict["resolution"] = resolution
        if seed is not UNSET:
            field_dict["seed"] = seed
        if session_id is not UNSET:
            field_dict["session_id"] = session_id
        if size is not UNSET:
            field_dict["size"] = size
        if trace is not UNSET:
            field_dict["trace"] = trace
        if upscale_factor is not UNSET:
            field_dict["upscale_factor"] = upscale_factor
        if user is not UNSET:
            field_dict["user"] = user

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.content_part_audio import ContentPartAudio  # noqa: PLC0415
        from ..models.content_part_image import ContentPartImage  # noqa: PLC0415
        from ..models.content_part_video import ContentPartVideo  # noqa: PLC0415
        from ..models.frame_image import FrameImage  # noqa: PLC0415
        from ..models.trace_config import TraceConfig  # noqa: PLC0415
        from ..models.video_generation_request_provider import VideoGenerationRequestProvider  # noqa: PLC0415

        d = dict(src_dict)
        model = d.pop("model")

        _aspect_ratio = d.pop("aspect_ratio", UNSET)
        aspect_ratio: VideoGenerationRequestAspectRatio | Unset
        if isinstance(_aspect_ratio, Unset):
            aspect_ratio = UNSET
        else:
            aspect_ratio = check_video_generation_request_aspect_ratio(_aspect_ratio)

        callback_url = d.pop("callback_url", UNSET)

        creativity = d.pop("creativity", UNSET)

        duration = d.pop("duration", UNSET)

        _frame_images = d.pop("frame_images", UNSET)
        frame_images: list[FrameImage] | Unset = UNSET
        if _frame_images is not UNSET:
            frame_images = []
            for frame_images_item_data in _frame_images:
                frame_images_item = FrameImage.from_dict(frame_images_item_data)

                frame_images.append(frame_images_item)

        generate_audio = d.pop("generate_audio", UNSET)

        _input_references = d.pop("input_references", UNSET)
        input_references: list[ContentPartAudio | ContentPartImage | ContentPartVideo] | Unset = UNSET
        if _input_references is not UNSET:
            input_references = []
            for input_references_item_data in _input_references:

                def _parse_input_references_item(
                    data: object,
                ) -> ContentPartAudio | ContentPartImage | ContentPartVideo:
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_input_reference_type_0 = ContentPartImage.from_dict(data)

                        return componentsschemas_input_reference_type_0
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_input_reference_type_1 = ContentPartAudio.from_dict(data)

                        return componentsschemas_input_reference_type_1
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_input_reference_type_2 = ContentPartVideo.from_dict(data)

                    return componentsschemas_input_reference_type_2

                input_references_item = _parse_input_references_item(input_references_item_data)

                input_references.append(input_references_item)

        previous_job_id = d.pop("previous_job_id", UNSET)

        prompt = d.pop("prompt", UNSET)

        _provider = d.pop("provider", UNSET)
        provider: VideoGenerationRequestProvider | Unset
        if isinstance(_provider, Unset):
            provider = UNSET
        else:
            provider = VideoGenerationRequestProvider.from_dict(_provider)

        _resolution = d.pop("resolution", UNSET)
        resolution: VideoGenerationRequestResolution | Unset
        if isinstance(_resolution, Unset):
            resolution = UNSET
        else:
            resolution = check_video_generation_request_resolution(_resolution)

        seed = d.pop("seed", UNSET)

        session_id = d.pop("session_id", UNSET)

        size = d.pop("size", UNSET)

        _trace = d.pop("trace", UNSET)
        trace: TraceConfig | Unset
        if isinstance(_trace, Unset):
            trace = UNSET
        else:
            trace = TraceConfig.from_dict(_trace)

        upscale_factor = d.pop("upscale_factor", UNSET)

        user = d.pop("user", UNSET)

        video_generation_request = cls(
            model=model,
            aspect_ratio=aspect_ratio,
            callback_url=callback_url,
            creativity=creativity,
            duration=duration,
            frame_images=frame_images,
            generate_audio=generate_audio,
            input_references=input_references,
            previous_job_id=previous_job_id,
            prompt=prompt,
            provider=provider,
            resolution=resolution,
            seed=seed,
            session_id=session_id,
            size=size,
            trace=trace,
            upscale_factor=upscale_factor,
            user=user,
        )

        video_generation_request.additional_properties = d
        return video_generation_request

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
