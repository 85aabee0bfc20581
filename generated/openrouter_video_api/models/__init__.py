"""Contains all the data models used in inputs/outputs.

The models are imported on first use (PEP 562): the spec has about 190 of them, and importing them all
up front costs ~0.2 s on every start. (This file comes from templates/models_init.py.jinja.)
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bad_gateway_response import BadGatewayResponse
    from .bad_gateway_response_error_data import BadGatewayResponseErrorData
    from .bad_gateway_response_error_data_metadata_type_0 import BadGatewayResponseErrorDataMetadataType0
    from .bad_gateway_response_openrouter_metadata_type_0 import BadGatewayResponseOpenrouterMetadataType0
    from .bad_request_response import BadRequestResponse
    from .bad_request_response_error_data import BadRequestResponseErrorData
    from .bad_request_response_error_data_metadata_type_0 import BadRequestResponseErrorDataMetadataType0
    from .bad_request_response_openrouter_metadata_type_0 import BadRequestResponseOpenrouterMetadataType0
    from .client_closed_request_response import ClientClosedRequestResponse
    from .client_closed_request_response_error_data import ClientClosedRequestResponseErrorData
    from .client_closed_request_response_error_data_metadata_type_0 import (
        ClientClosedRequestResponseErrorDataMetadataType0,
    )
    from .client_closed_request_response_openrouter_metadata_type_0 import (
        ClientClosedRequestResponseOpenrouterMetadataType0,
    )
    from .conflict_response import ConflictResponse
    from .conflict_response_error_data import ConflictResponseErrorData
    from .conflict_response_error_data_metadata_type_0 import ConflictResponseErrorDataMetadataType0
    from .conflict_response_openrouter_metadata_type_0 import ConflictResponseOpenrouterMetadataType0
    from .content_part_audio import ContentPartAudio
    from .content_part_audio_audio_url import ContentPartAudioAudioUrl
    from .content_part_audio_type import ContentPartAudioType
    from .content_part_image import ContentPartImage
    from .content_part_image_image_url import ContentPartImageImageUrl
    from .content_part_image_type import ContentPartImageType
    from .content_part_video import ContentPartVideo
    from .content_part_video_type import ContentPartVideoType
    from .content_part_video_video_url import ContentPartVideoVideoUrl
    from .forbidden_response import ForbiddenResponse
    from .forbidden_response_error_data import ForbiddenResponseErrorData
    from .forbidden_response_error_data_metadata_type_0 import ForbiddenResponseErrorDataMetadataType0
    from .forbidden_response_openrouter_metadata_type_0 import ForbiddenResponseOpenrouterMetadataType0
    from .frame_image import FrameImage
    from .frame_image_frame_type import FrameImageFrameType
    from .gone_response import GoneResponse
    from .gone_response_error_data import GoneResponseErrorData
    from .gone_response_error_data_metadata_type_0 import GoneResponseErrorDataMetadataType0
    from .gone_response_openrouter_metadata_type_0 import GoneResponseOpenrouterMetadataType0
    from .internal_server_response import InternalServerResponse
    from .internal_server_response_error_data import InternalServerResponseErrorData
    from .internal_server_response_error_data_metadata_type_0 import InternalServerResponseErrorDataMetadataType0
    from .internal_server_response_openrouter_metadata_type_0 import InternalServerResponseOpenrouterMetadataType0
    from .not_found_response import NotFoundResponse
    from .not_found_response_error_data import NotFoundResponseErrorData
    from .not_found_response_error_data_metadata_type_0 import NotFoundResponseErrorDataMetadataType0
    from .not_found_response_openrouter_metadata_type_0 import NotFoundResponseOpenrouterMetadataType0
    from .payload_too_large_response import PayloadTooLargeResponse
    from .payload_too_large_response_error_data import PayloadTooLargeResponseErrorData
    from .payload_too_large_response_error_data_metadata_type_0 import PayloadTooLargeResponseErrorDataMetadataType0
    from .payload_too_large_response_openrouter_metadata_type_0 import PayloadTooLargeResponseOpenrouterMetadataType0
    from .payment_required_response import PaymentRequiredResponse
    from .payment_required_response_error_data import PaymentRequiredResponseErrorData
    from .payment_required_response_error_data_metadata_type_0 import PaymentRequiredResponseErrorDataMetadataType0
    from .payment_required_response_openrouter_metadata_type_0 import PaymentRequiredResponseOpenrouterMetadataType0
    from .provider_options import ProviderOptions
    from .provider_options_01_ai import ProviderOptions01Ai
    from .provider_options_ai_21 import ProviderOptionsAi21
    from .provider_options_aion_labs import ProviderOptionsAionLabs
    from .provider_options_akashml import ProviderOptionsAkashml
    from .provider_options_alibaba import ProviderOptionsAlibaba
    from .provider_options_amazon_bedrock import ProviderOptionsAmazonBedrock
    from .provider_options_amazon_bedrockclaude_on_aws import ProviderOptionsAmazonBedrockclaudeOnAws
    from .provider_options_amazon_nova import ProviderOptionsAmazonNova
    from .provider_options_ambient import ProviderOptionsAmbient
    from .provider_options_anthropic import ProviderOptionsAnthropic
    from .provider_options_anthropic_2 import ProviderOptionsAnthropic2
    from .provider_options_anyscale import ProviderOptionsAnyscale
    from .provider_options_arcee_ai import ProviderOptionsArceeAi
    from .provider_options_assemblyai import ProviderOptionsAssemblyai
    from .provider_options_atlas_cloud import ProviderOptionsAtlasCloud
    from .provider_options_atoma import ProviderOptionsAtoma
    from .provider_options_avian import ProviderOptionsAvian
    from .provider_options_azure import ProviderOptionsAzure
    from .provider_options_baidu import ProviderOptionsBaidu
    from .provider_options_baseten import ProviderOptionsBaseten
    from .provider_options_black_forest_labs import ProviderOptionsBlackForestLabs
    from .provider_options_byteplus import ProviderOptionsByteplus
    from .provider_options_centml import ProviderOptionsCentml
    from .provider_options_cerebras import ProviderOptionsCerebras
    from .provider_options_chutes import ProviderOptionsChutes
    from .provider_options_cirrascale import ProviderOptionsCirrascale
    from .provider_options_clarifai import ProviderOptionsClarifai
    from .provider_options_claude_on_aws import ProviderOptionsClaudeOnAws
    from .provider_options_cloudflare import ProviderOptionsCloudflare
    from .provider_options_cohere import ProviderOptionsCohere
    from .provider_options_coreweave import ProviderOptionsCoreweave
    from .provider_options_cosine import ProviderOptionsCosine
    from .provider_options_crofai import ProviderOptionsCrofai
    from .provider_options_crucible import ProviderOptionsCrucible
    from .provider_options_crusoe import ProviderOptionsCrusoe
    from .provider_options_darkbloom import ProviderOptionsDarkbloom
    from .provider_options_databricks import ProviderOptionsDatabricks
    from .provider_options_decart import ProviderOptionsDecart
    from .provider_options_deepgram import ProviderOptionsDeepgram
    from .provider_options_deepinfra import ProviderOptionsDeepinfra
    from .provider_options_deepseek import ProviderOptionsDeepseek
    from .provider_options_dekallm import ProviderOptionsDekallm
    from .provider_options_digitalocean import ProviderOptionsDigitalocean
    from .provider_options_elevenlabs import ProviderOptionsElevenlabs
    from .provider_options_enfer import ProviderOptionsEnfer
    from .provider_options_fake_provider import ProviderOptionsFakeProvider
    from .provider_options_featherless import ProviderOptionsFeatherless
    from .provider_options_fireworks import ProviderOptionsFireworks
    from .provider_options_fish_audio import ProviderOptionsFishAudio
    from .provider_options_friendli import ProviderOptionsFriendli
    from .provider_options_gmicloud import ProviderOptionsGmicloud
    from .provider_options_google_ai_studio import ProviderOptionsGoogleAiStudio
    from .provider_options_google_vertex import ProviderOptionsGoogleVertex
    from .provider_options_gopomelo import ProviderOptionsGopomelo
    from .provider_options_groq import ProviderOptionsGroq
    from .provider_options_heygen import ProviderOptionsHeygen
    from .provider_options_huggingface import ProviderOptionsHuggingface
    from .provider_options_hyperbolic import ProviderOptionsHyperbolic
    from .provider_options_hyperbolic_quantized import ProviderOptionsHyperbolicQuantized
    from .provider_options_inception import ProviderOptionsInception
    from .provider_options_inceptron import ProviderOptionsInceptron
    from .provider_options_inferact_vllm import ProviderOptionsInferactVllm
    from .provider_options_inference_net import ProviderOptionsInferenceNet
    from .provider_options_infermatic import ProviderOptionsInfermatic
    from .provider_options_inflection import ProviderOptionsInflection
    from .provider_options_inocloud import ProviderOptionsInocloud
    from .provider_options_io_net import ProviderOptionsIoNet
    from .provider_options_ionstream import ProviderOptionsIonstream
    from .provider_options_klusterai import ProviderOptionsKlusterai
    from .provider_options_krea import ProviderOptionsKrea
    from .provider_options_lambda import ProviderOptionsLambda
    from .provider_options_lepton import ProviderOptionsLepton
    from .provider_options_liquid import ProviderOptionsLiquid
    from .provider_options_lynn import ProviderOptionsLynn
    from .provider_options_lynn_private import ProviderOptionsLynnPrivate
    from .provider_options_makora import ProviderOptionsMakora
    from .provider_options_mancer import ProviderOptionsMancer
    from .provider_options_mancer_old import ProviderOptionsMancerOld
    from .provider_options_mara import ProviderOptionsMara
    from .provider_options_meta import ProviderOptionsMeta
    from .provider_options_minimax import ProviderOptionsMinimax
    from .provider_options_mistral import ProviderOptionsMistral
    from .provider_options_modal import ProviderOptionsModal
    from .provider_options_modelrun import ProviderOptionsModelrun
    from .provider_options_modular import ProviderOptionsModular
    from .provider_options_moonshotai import ProviderOptionsMoonshotai
    from .provider_options_morph import ProviderOptionsMorph
    from .provider_options_ncompass import ProviderOptionsNcompass
    from .provider_options_near_ai import ProviderOptionsNearAi
    from .provider_options_nebius import ProviderOptionsNebius
    from .provider_options_nex_agi import ProviderOptionsNexAgi
    from .provider_options_nextbit import ProviderOptionsNextbit
    from .provider_options_nineteen import ProviderOptionsNineteen
    from .provider_options_novita import ProviderOptionsNovita
    from .provider_options_nvidia import ProviderOptionsNvidia
    from .provider_options_octoai import ProviderOptionsOctoai
    from .provider_options_ollama import ProviderOptionsOllama
    from .provider_options_open_inference import ProviderOptionsOpenInference
    from .provider_options_openai import ProviderOptionsOpenai
    from .provider_options_parasail import ProviderOptionsParasail
    from .provider_options_pareto_alpha import ProviderOptionsParetoAlpha
    from .provider_options_perceptron import ProviderOptionsPerceptron
    from .provider_options_perplexity import ProviderOptionsPerplexity
    from .provider_options_phala import ProviderOptionsPhala
    from .provider_options_poolside import ProviderOptionsPoolside
    from .provider_options_primeintellect import ProviderOptionsPrimeintellect
    from .provider_options_quiver import ProviderOptionsQuiver
    from .provider_options_recraft import ProviderOptionsRecraft
    from .provider_options_recursal import ProviderOptionsRecursal
    from .provider_options_recursive import ProviderOptionsRecursive
    from .provider_options_reflection import ProviderOptionsReflection
    from .provider_options_reka import ProviderOptionsReka
    from .provider_options_relace import ProviderOptionsRelace
    from .provider_options_replicate import ProviderOptionsReplicate
    from .provider_options_respan import ProviderOptionsRespan
    from .provider_options_runway import ProviderOptionsRunway
    from .provider_options_sail_research import ProviderOptionsSailResearch
    from .provider_options_sakana import ProviderOptionsSakana
    from .provider_options_sakana_ai import ProviderOptionsSakanaAi
    from .provider_options_sambanova import ProviderOptionsSambanova
    from .provider_options_sambanova_cloaked import ProviderOptionsSambanovaCloaked
    from .provider_options_scaledown import ProviderOptionsScaledown
    from .provider_options_seed import ProviderOptionsSeed
    from .provider_options_sf_compute import ProviderOptionsSfCompute
    from .provider_options_siliconflow import ProviderOptionsSiliconflow
    from .provider_options_sourceful import ProviderOptionsSourceful
    from .provider_options_stealth import ProviderOptionsStealth
    from .provider_options_stepfun import ProviderOptionsStepfun
    from .provider_options_streamlake import ProviderOptionsStreamlake
    from .provider_options_switchpoint import ProviderOptionsSwitchpoint
    from .provider_options_targon import ProviderOptionsTargon
    from .provider_options_tencent import ProviderOptionsTencent
    from .provider_options_tenstorrent import ProviderOptionsTenstorrent
    from .provider_options_thinkingmachines import ProviderOptionsThinkingmachines
    from .provider_options_together import ProviderOptionsTogether
    from .provider_options_together_lite import ProviderOptionsTogetherLite
    from .provider_options_typesafe import ProviderOptionsTypesafe
    from .provider_options_ubicloud import ProviderOptionsUbicloud
    from .provider_options_unbiased import ProviderOptionsUnbiased
    from .provider_options_upstage import ProviderOptionsUpstage
    from .provider_options_venice import ProviderOptionsVenice
    from .provider_options_voyageai import ProviderOptionsVoyageai
    from .provider_options_wafer import ProviderOptionsWafer
    from .provider_options_wandb import ProviderOptionsWandb
    from .provider_options_wandb_legacy import ProviderOptionsWandbLegacy
    from .provider_options_xai import ProviderOptionsXai
    from .provider_options_xiaomi import ProviderOptionsXiaomi
    from .provider_options_z_ai import ProviderOptionsZAi
    from .service_unavailable_response import ServiceUnavailableResponse
    from .service_unavailable_response_error_data import ServiceUnavailableResponseErrorData
    from .service_unavailable_response_error_data_metadata_type_0 import (
        ServiceUnavailableResponseErrorDataMetadataType0,
    )
    from .service_unavailable_response_openrouter_metadata_type_0 import (
        ServiceUnavailableResponseOpenrouterMetadataType0,
    )
    from .too_many_requests_response import TooManyRequestsResponse
    from .too_many_requests_response_error_data import TooManyRequestsResponseErrorData
    from .too_many_requests_response_error_data_metadata_type_0 import TooManyRequestsResponseErrorDataMetadataType0
    from .too_many_requests_response_openrouter_metadata_type_0 import TooManyRequestsResponseOpenrouterMetadataType0
    from .trace_config import TraceConfig
    from .unauthorized_response import UnauthorizedResponse
    from .unauthorized_response_error_data import UnauthorizedResponseErrorData
    from .unauthorized_response_error_data_metadata_type_0 import UnauthorizedResponseErrorDataMetadataType0
    from .unauthorized_response_openrouter_metadata_type_0 import UnauthorizedResponseOpenrouterMetadataType0
    from .video_generation_request import VideoGenerationRequest
    from .video_generation_request_aspect_ratio import VideoGenerationRequestAspectRatio
    from .video_generation_request_provider import VideoGenerationRequestProvider
    from .video_generation_request_provider_options import VideoGenerationRequestProviderOptions
    from .video_generation_request_resolution import VideoGenerationRequestResolution
    from .video_generation_response import VideoGenerationResponse
    from .video_generation_response_status import VideoGenerationResponseStatus
    from .video_generation_usage import VideoGenerationUsage
    from .video_model import VideoModel
    from .video_model_pricing_skus_type_0 import VideoModelPricingSkusType0
    from .video_model_supported_aspect_ratios_type_0_item import VideoModelSupportedAspectRatiosType0Item
    from .video_model_supported_frame_images_type_0_item import VideoModelSupportedFrameImagesType0Item
    from .video_model_supported_resolutions_type_0_item import VideoModelSupportedResolutionsType0Item
    from .video_model_supported_sizes_type_0_item import VideoModelSupportedSizesType0Item
    from .video_model_upscale_factor_type_0 import VideoModelUpscaleFactorType0
    from .video_models_list_response import VideoModelsListResponse

_MODULES = {
    "BadGatewayResponse": ".bad_gateway_response",
    "BadGatewayResponseErrorData": ".bad_gateway_response_error_data",
    "BadGatewayResponseErrorDataMetadataType0": ".bad_gateway_response_error_data_metadata_type_0",
    "BadGatewayResponseOpenrouterMetadataType0": ".bad_gateway_response_openrouter_metadata_type_0",
    "BadRequestResponse": ".bad_request_response",
    "BadRequestResponseErrorData": ".bad_request_response_error_data",
    "BadRequestResponseErrorDataMetadataType0": ".bad_request_response_error_data_metadata_type_0",
    "BadRequestResponseOpenrouterMetadataType0": ".bad_request_response_openrouter_metadata_type_0",
    "ClientClosedRequestResponse": ".client_closed_request_response",
    "ClientClosedRequestResponseErrorData": ".client_closed_request_response_error_data",
    "ClientClosedRequestResponseErrorDataMetadataType0": ".client_closed_request_response_error_data_metadata_type_0",
    "ClientClosedRequestResponseOpenrouterMetadataType0": ".client_closed_request_response_openrouter_metadata_type_0",
    "ConflictResponse": ".conflict_response",
    "ConflictResponseErrorData": ".conflict_response_error_data",
    "ConflictResponseErrorDataMetadataType0": ".conflict_response_error_data_metadata_type_0",
    "ConflictResponseOpenrouterMetadataType0": ".conflict_response_openrouter_metadata_type_0",
    "ContentPartAudio": ".content_part_audio",
    "ContentPartAudioAudioUrl": ".content_part_audio_audio_url",
    "ContentPartAudioType": ".content_part_audio_type",
    "ContentPartImage": ".content_part_image",
    "ContentPartImageImageUrl": ".content_part_image_image_url",
    "ContentPartImageType": ".content_part_image_type",
    "ContentPartVideo": ".content_part_video",
    "ContentPartVideoType": ".content_part_video_type",
    "ContentPartVideoVideoUrl": ".content_part_video_video_url",
    "ForbiddenResponse": ".forbidden_response",
    "ForbiddenResponseErrorData": ".forbidden_response_error_data",
    "ForbiddenResponseErrorDataMetadataType0": ".forbidden_response_error_data_metadata_type_0",
    "ForbiddenResponseOpenrouterMetadataType0": ".forbidden_response_openrouter_metadata_type_0",
    "FrameImage": ".frame_image",
    "FrameImageFrameType": ".frame_image_frame_type",
    "GoneResponse": ".gone_response",
    "GoneResponseErrorData": ".gone_response_error_data",
    "GoneResponseErrorDataMetadataType0": ".gone_response_error_data_metadata_type_0",
    "GoneResponseOpenrouterMetadataType0": ".gone_response_openrouter_metadata_type_0",
    "InternalServerResponse": ".internal_server_response",
    "InternalServerResponseErrorData": ".internal_server_response_error_data",
    "InternalServerResponseErrorDataMetadataType0": ".internal_server_response_error_data_metadata_type_0",
    "InternalServerResponseOpenrouterMetadataType0": ".internal_server_response_openrouter_metadata_type_0",
    "NotFoundResponse": ".not_found_response",
    "NotFoundResponseErrorData": ".not_found_response_error_data",
    "NotFoundResponseErrorDataMetadataType0": ".not_found_response_error_data_metadata_type_0",
    "NotFoundResponseOpenrouterMetadataType0": ".not_found_response_openrouter_metadata_type_0",
    "PayloadTooLargeResponse": ".payload_too_large_response",
    "PayloadTooLargeResponseErrorData": ".payload_too_large_response_error_data",
    "PayloadTooLargeResponseErrorDataMetadataType0": ".payload_too_large_response_error_data_metadata_type_0",
    "PayloadTooLargeResponseOpenrouterMetadataType0": ".payload_too_large_response_openrouter_metadata_type_0",
    "PaymentRequiredResponse": ".payment_required_response",
    "PaymentRequiredResponseErrorData": ".payment_required_response_error_data",
    "PaymentRequiredResponseErrorDataMetadataType0": ".payment_required_response_error_data_metadata_type_0",
    "PaymentRequiredResponseOpenrouterMetadataType0": ".payment_required_response_openrouter_metadata_type_0",
    "ProviderOptions": ".provider_options",
    "ProviderOptions01Ai": ".provider_options_01_ai",
    "ProviderOptionsAi21": ".provider_options_ai_21",
    "ProviderOptionsAionLabs": ".provider_options_aion_labs",
    "ProviderOptionsAkashml": ".provider_options_akashml",
    "ProviderOptionsAlibaba": ".provider_options_alibaba",
    "ProviderOptionsAmazonBedrock": ".provider_options_amazon_bedrock",
    "ProviderOptionsAmazonBedrockclaudeOnAws": ".provider_options_amazon_bedrockclaude_on_aws",
    "ProviderOptionsAmazonNova": ".provider_options_amazon_nova",
    "ProviderOptionsAmbient": ".provider_options_ambient",
    "ProviderOptionsAnthropic": ".provider_options_anthropic",
    "ProviderOptionsAnthropic2": ".provider_options_anthropic_2",
    "ProviderOptionsAnyscale": ".provider_options_anyscale",
    "ProviderOptionsArceeAi": ".provider_options_arcee_ai",
    "ProviderOptionsAssemblyai": ".provider_options_assemblyai",
    "ProviderOptionsAtlasCloud": ".provider_options_atlas_cloud",
    "ProviderOptionsAtoma": ".provider_options_atoma",
    "ProviderOptionsAvian": ".provider_options_avian",
    "ProviderOptionsAzure": ".provider_options_azure",
    "ProviderOptionsBaidu": ".provider_options_baidu",
    "ProviderOptionsBaseten": ".provider_options_baseten",
    "ProviderOptionsBlackForestLabs": ".provider_options_black_forest_labs",
    "ProviderOptionsByteplus": ".provider_options_byteplus",
    "ProviderOptionsCentml": ".provider_options_centml",
    "ProviderOptionsCerebras": ".provider_options_cerebras",
    "ProviderOptionsChutes": ".provider_options_chutes",
    "ProviderOptionsCirrascale": ".provider_options_cirrascale",
    "ProviderOptionsClarifai": ".provider_options_clarifai",
    "ProviderOptionsClaudeOnAws": ".provider_options_claude_on_aws",
    "ProviderOptionsCloudflare": ".provider_options_cloudflare",
    "ProviderOptionsCohere": ".provider_options_cohere",
    "ProviderOptionsCoreweave": ".provider_options_coreweave",
    "ProviderOptionsCosine": ".provider_options_cosine",
    "ProviderOptionsCrofai": ".provider_options_crofai",
    "ProviderOptionsCrucible": ".provider_options_crucible",
    "ProviderOptionsCrusoe": ".provider_options_crusoe",
    "ProviderOptionsDarkbloom": ".provider_options_darkbloom",
    "ProviderOptionsDatabricks": ".provider_options_databricks",
    "ProviderOptionsDecart": ".provider_options_decart",
    "ProviderOptionsDeepgram": ".provider_options_deepgram",
    "ProviderOptionsDeepinfra": ".provider_options_deepinfra",
    "ProviderOptionsDeepseek": ".provider_options_deepseek",
    "ProviderOptionsDekallm": ".provider_options_dekallm",
    "ProviderOptionsDigitalocean": ".provider_options_digitalocean",
    "ProviderOptionsElevenlabs": ".provider_options_elevenlabs",
    "ProviderOptionsEnfer": ".provider_options_enfer",
    "ProviderOptionsFakeProvider": ".provider_options_fake_provider",
    "ProviderOptionsFeatherless": ".provider_options_featherless",
    "ProviderOptionsFireworks": ".provider_options_fireworks",
    "ProviderOptionsFishAudio": ".provider_options_fish_audio",
    "ProviderOptionsFriendli": ".provider_options_friendli",
    "ProviderOptionsGmicloud": ".provider_options_gmicloud",
    "ProviderOptionsGoogleAiStudio": ".provider_options_google_ai_studio",
    "ProviderOptionsGoogleVertex": ".provider_options_google_vertex",
    "ProviderOptionsGopomelo": ".provider_options_gopomelo",
    "ProviderOptionsGroq": ".provider_options_groq",
    "ProviderOptionsHeygen": ".provider_options_heygen",
    "ProviderOptionsHuggingface": ".provider_options_huggingface",
    "ProviderOptionsHyperbolic": ".provider_options_hyperbolic",
    "ProviderOptionsHyperbolicQuantized": ".provider_options_hyperbolic_quantized",
    "ProviderOptionsInception": ".provider_options_inception",
    "ProviderOptionsInceptron": ".provider_options_inceptron",
    "ProviderOptionsInferactVllm": ".provider_options_inferact_vllm",
    "ProviderOptionsInferenceNet": ".provider_options_inference_net",
    "ProviderOptionsInfermatic": ".provider_options_infermatic",
    "ProviderOptionsInflection": ".provider_options_inflection",
    "ProviderOptionsInocloud": ".provider_options_inocloud",
    "ProviderOptionsIoNet": ".provider_options_io_net",
    "ProviderOptionsIonstream": ".provider_options_ionstream",
    "ProviderOptionsKlusterai": ".provider_options_klusterai",
    "ProviderOptionsKrea": ".provider_options_krea",
    "ProviderOptionsLambda": ".provider_options_lambda",
    "ProviderOptionsLepton": ".provider_options_lepton",
    "ProviderOptionsLiquid": ".provider_options_liquid",
    "ProviderOptionsLynn": ".provider_options_lynn",
    "ProviderOptionsLynnPrivate": ".provider_options_lynn_private",
    "ProviderOptionsMakora": ".provider_options_makora",
    "ProviderOptionsMancer": ".provider_options_mancer",
    "ProviderOptionsMancerOld": ".provider_options_mancer_old",
    "ProviderOptionsMara": ".provider_options_mara",
    "ProviderOptionsMeta": ".provider_options_meta",
    "ProviderOptionsMinimax": ".provider_options_minimax",
    "ProviderOptionsMistral": ".provider_options_mistral",
    "ProviderOptionsModal": ".provider_options_modal",
    "ProviderOptionsModelrun": ".provider_options_modelrun",
    "ProviderOptionsModular": ".provider_options_modular",
    "ProviderOptionsMoonshotai": ".provider_options_moonshotai",
    "ProviderOptionsMorph": ".provider_options_morph",
    "ProviderOptionsNcompass": ".provider_options_ncompass",
    "ProviderOptionsNearAi": ".provider_options_near_ai",
    "ProviderOptionsNebius": ".provider_options_nebius",
    "ProviderOptionsNexAgi": ".provider_options_nex_agi",
    "ProviderOptionsNextbit": ".provider_options_nextbit",
    "ProviderOptionsNineteen": ".provider_options_nineteen",
    "ProviderOptionsNovita": ".provider_options_novita",
    "ProviderOptionsNvidia": ".provider_options_nvidia",
    "ProviderOptionsOctoai": ".provider_options_octoai",
    "ProviderOptionsOllama": ".provider_options_ollama",
    "ProviderOptionsOpenInference": ".provider_options_open_inference",
    "ProviderOptionsOpenai": ".provider_options_openai",
    "ProviderOptionsParasail": ".provider_options_parasail",
    "ProviderOptionsParetoAlpha": ".provider_options_pareto_alpha",
    "ProviderOptionsPerceptron": ".provider_options_perceptron",
    "ProviderOptionsPerplexity": ".provider_options_perplexity",
    "ProviderOptionsPhala": ".provider_options_phala",
    "ProviderOptionsPoolside": ".provider_options_poolside",
    "ProviderOptionsPrimeintellect": ".provider_options_primeintellect",
    "ProviderOptionsQuiver": ".provider_options_quiver",
    "ProviderOptionsRecraft": ".provider_options_recraft",
    "ProviderOptionsRecursal": ".provider_options_recursal",
    "ProviderOptionsRecursive": ".provider_options_recursive",
    "ProviderOptionsReflection": ".provider_options_reflection",
    "ProviderOptionsReka": ".provider_options_reka",
    "ProviderOptionsRelace": ".provider_options_relace",
    "ProviderOptionsReplicate": ".provider_options_replicate",
    "ProviderOptionsRespan": ".provider_options_respan",
    "ProviderOptionsRunway": ".provider_options_runway",
    "ProviderOptionsSailResearch": ".provider_options_sail_research",
    "ProviderOptionsSakana": ".provider_options_sakana",
    "ProviderOptionsSakanaAi": ".provider_options_sakana_ai",
    "ProviderOptionsSambanova": ".provider_options_sambanova",
    "ProviderOptionsSambanovaCloaked": ".provider_options_sambanova_cloaked",
    "ProviderOptionsScaledown": ".provider_options_scaledown",
    "ProviderOptionsSeed": ".provider_options_seed",
    "ProviderOptionsSfCompute": ".provider_options_sf_compute",
    "ProviderOptionsSiliconflow": ".provider_options_siliconflow",
    "ProviderOptionsSourceful": ".provider_options_sourceful",
    "ProviderOptionsStealth": ".provider_options_stealth",
    "ProviderOptionsStepfun": ".provider_options_stepfun",
    "ProviderOptionsStreamlake": ".provider_options_streamlake",
    "ProviderOptionsSwitchpoint": ".provider_options_switchpoint",
    "ProviderOptionsTargon": ".provider_options_targon",
    "ProviderOptionsTencent": ".provider_options_tencent",
    "ProviderOptionsTenstorrent": ".provider_options_tenstorrent",
    "ProviderOptionsThinkingmachines": ".provider_options_thinkingmachines",
    "ProviderOptionsTogether": ".provider_options_together",
    "ProviderOptionsTogetherLite": ".provider_options_together_lite",
    "ProviderOptionsTypesafe": ".provider_options_typesafe",
    "ProviderOptionsUbicloud": ".provider_options_ubicloud",
    "ProviderOptionsUnbiased": ".provider_options_unbiased",
    "ProviderOptionsUpstage": ".provider_options_upstage",
    "ProviderOptionsVenice": ".provider_options_venice",
    "ProviderOptionsVoyageai": ".provider_options_voyageai",
    "ProviderOptionsWafer": ".provider_options_wafer",
    "ProviderOptionsWandb": ".provider_options_wandb",
    "ProviderOptionsWandbLegacy": ".provider_options_wandb_legacy",
    "ProviderOptionsXai": ".provider_options_xai",
    "ProviderOptionsXiaomi": ".provider_options_xiaomi",
    "ProviderOptionsZAi": ".provider_options_z_ai",
    "ServiceUnavailableResponse": ".service_unavailable_response",
    "ServiceUnavailableResponseErrorData": ".service_unavailable_response_error_data",
    "ServiceUnavailableResponseErrorDataMetadataType0": ".service_unavailable_response_error_data_metadata_type_0",
    "ServiceUnavailableResponseOpenrouterMetadataType0": ".service_unavailable_response_openrouter_metadata_type_0",
    "TooManyRequestsResponse": ".too_many_requests_response",
    "TooManyRequestsResponseErrorData": ".too_many_requests_response_error_data",
    "TooManyRequestsResponseErrorDataMetadataType0": ".too_many_requests_response_error_data_metadata_type_0",
    "TooManyRequestsResponseOpenrouterMetadataType0": ".too_many_requests_response_openrouter_metadata_type_0",
    "TraceConfig": ".trace_config",
    "UnauthorizedResponse": ".unauthorized_response",
    "UnauthorizedResponseErrorData": ".unauthorized_response_error_data",
    "UnauthorizedResponseErrorDataMetadataType0": ".unauthorized_response_error_data_metadata_type_0",
    "UnauthorizedResponseOpenrouterMetadataType0": ".unauthorized_response_openrouter_metadata_type_0",
    "VideoGenerationRequest": ".video_generation_request",
    "VideoGenerationRequestAspectRatio": ".video_generation_request_aspect_ratio",
    "VideoGenerationRequestProvider": ".video_generation_request_provider",
    "VideoGenerationRequestProviderOptions": ".video_generation_request_provider_options",
    "VideoGenerationRequestResolution": ".video_generation_request_resolution",
    "VideoGenerationResponse": ".video_generation_response",
    "VideoGenerationResponseStatus": ".video_generation_response_status",
    "VideoGenerationUsage": ".video_generation_usage",
    "VideoModel": ".video_model",
    "VideoModelPricingSkusType0": ".video_model_pricing_skus_type_0",
    "VideoModelSupportedAspectRatiosType0Item": ".video_model_supported_aspect_ratios_type_0_item",
    "VideoModelSupportedFrameImagesType0Item": ".video_model_supported_frame_images_type_0_item",
    "VideoModelSupportedResolutionsType0Item": ".video_model_supported_resolutions_type_0_item",
    "VideoModelSupportedSizesType0Item": ".video_model_supported_sizes_type_0_item",
    "VideoModelUpscaleFactorType0": ".video_model_upscale_factor_type_0",
    "VideoModelsListResponse": ".video_models_list_response",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_MODULES[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULES))


__all__ = (
    "BadGatewayResponse",
    "BadGatewayResponseErrorData",
    "BadGatewayResponseErrorDataMetadataType0",
    "BadGatewayResponseOpenrouterMetadataType0",
    "BadRequestResponse",
    "BadRequestResponseErrorData",
    "BadRequestResponseErrorDataMetadataType0",
    "BadRequestResponseOpenrouterMetadataType0",
    "ClientClosedRequestResponse",
    "ClientClosedRequestResponseErrorData",
    "ClientClosedRequestResponseErrorDataMetadataType0",
    "ClientClosedRequestResponseOpenrouterMetadataType0",
    "ConflictResponse",
    "ConflictResponseErrorData",
    "ConflictResponseErrorDataMetadataType0",
    "ConflictResponseOpenrouterMetadataType0",
    "ContentPartAudio",
    "ContentPartAudioAudioUrl",
    "ContentPartAudioType",
    "ContentPartImage",
    "ContentPartImageImageUrl",
    "ContentPartImageType",
    "ContentPartVideo",
    "ContentPartVideoType",
    "ContentPartVideoVideoUrl",
    "ForbiddenResponse",
    "ForbiddenResponseErrorData",
    "ForbiddenResponseErrorDataMetadataType0",
    "ForbiddenResponseOpenrouterMetadataType0",
    "FrameImage",
    "FrameImageFrameType",
    "GoneResponse",
    "GoneResponseErrorData",
    "GoneResponseErrorDataMetadataType0",
    "GoneResponseOpenrouterMetadataType0",
    "InternalServerResponse",
    "InternalServerResponseErrorData",
    "InternalServerResponseErrorDataMetadataType0",
    "InternalServerResponseOpenrouterMetadataType0",
    "NotFoundResponse",
    "NotFoundResponseErrorData",
    "NotFoundResponseErrorDataMetadataType0",
    "NotFoundResponseOpenrouterMetadataType0",
    "PayloadTooLargeResponse",
    "PayloadTooLargeResponseErrorData",
    "PayloadTooLargeResponseErrorDataMetadataType0",
    "PayloadTooLargeResponseOpenrouterMetadataType0",
    "PaymentRequiredResponse",
    "PaymentRequiredResponseErrorData",
    "PaymentRequiredResponseErrorDataMetadataType0",
    "PaymentRequiredResponseOpenrouterMetadataType0",
    "ProviderOptions",
    "ProviderOptions01Ai",
    "ProviderOptionsAi21",
    "ProviderOptionsAionLabs",
    "ProviderOptionsAkashml",
    "ProviderOptionsAlibaba",
    "ProviderOptionsAmazonBedrock",
    "ProviderOptionsAmazonBedrockclaudeOnAws",
    "ProviderOptionsAmazonNova",
    "ProviderOptionsAmbient",
    "ProviderOptionsAnthropic",
    "ProviderOptionsAnthropic2",
    "ProviderOptionsAnyscale",
    "ProviderOptionsArceeAi",
    "ProviderOptionsAssemblyai",
    "ProviderOptionsAtlasCloud",
    "ProviderOptionsAtoma",
    "ProviderOptionsAvian",
    "ProviderOptionsAzure",
    "ProviderOptionsBaidu",
    "ProviderOptionsBaseten",
    "ProviderOptionsBlackForestLabs",
    "ProviderOptionsByteplus",
    "ProviderOptionsCentml",
    "ProviderOptionsCerebras",
    "ProviderOptionsChutes",
    "ProviderOptionsCirrascale",
    "ProviderOptionsClarifai",
    "ProviderOptionsClaudeOnAws",
    "ProviderOptionsCloudflare",
    "ProviderOptionsCohere",
    "ProviderOptionsCoreweave",
    "ProviderOptionsCosine",
    "ProviderOptionsCrofai",
    "ProviderOptionsCrucible",
    "ProviderOptionsCrusoe",
    "ProviderOptionsDarkbloom",
    "ProviderOptionsDatabricks",
    "ProviderOptionsDecart",
    "ProviderOptionsDeepgram",
    "ProviderOptionsDeepinfra",
    "ProviderOptionsDeepseek",
    "ProviderOptionsDekallm",
    "ProviderOptionsDigitalocean",
    "ProviderOptionsElevenlabs",
    "ProviderOptionsEnfer",
    "ProviderOptionsFakeProvider",
    "ProviderOptionsFeatherless",
    "ProviderOptionsFireworks",
    "ProviderOptionsFishAudio",
    "ProviderOptionsFriendli",
    "ProviderOptionsGmicloud",
    "ProviderOptionsGoogleAiStudio",
    "ProviderOptionsGoogleVertex",
    "ProviderOptionsGopomelo",
    "ProviderOptionsGroq",
    "ProviderOptionsHeygen",
    "ProviderOptionsHuggingface",
    "ProviderOptionsHyperbolic",
    "ProviderOptionsHyperbolicQuantized",
    "ProviderOptionsInception",
    "ProviderOptionsInceptron",
    "ProviderOptionsInferactVllm",
    "ProviderOptionsInferenceNet",
    "ProviderOptionsInfermatic",
    "ProviderOptionsInflection",
    "ProviderOptionsInocloud",
    "ProviderOptionsIoNet",
    "ProviderOptionsIonstream",
    "ProviderOptionsKlusterai",
    "ProviderOptionsKrea",
    "ProviderOptionsLambda",
    "ProviderOptionsLepton",
    "ProviderOptionsLiquid",
    "ProviderOptionsLynn",
    "ProviderOptionsLynnPrivate",
    "ProviderOptionsMakora",
    "ProviderOptionsMancer",
    "ProviderOptionsMancerOld",
    "ProviderOptionsMara",
    "ProviderOptionsMeta",
    "ProviderOptionsMinimax",
    "ProviderOptionsMistral",
    "ProviderOptionsModal",
    "ProviderOptionsModelrun",
    "ProviderOptionsModular",
    "ProviderOptionsMoonshotai",
    "ProviderOptionsMorph",
    "ProviderOptionsNcompass",
    "ProviderOptionsNearAi",
    "ProviderOptionsNebius",
    "ProviderOptionsNexAgi",
    "ProviderOptionsNextbit",
    "ProviderOptionsNineteen",
    "ProviderOptionsNovita",
    "ProviderOptionsNvidia",
    "ProviderOptionsOctoai",
    "ProviderOptionsOllama",
    "ProviderOptionsOpenai",
    "ProviderOptionsOpenInference",
    "ProviderOptionsParasail",
    "ProviderOptionsParetoAlpha",
    "ProviderOptionsPerceptron",
    "ProviderOptionsPerplexity",
    "ProviderOptionsPhala",
    "ProviderOptionsPoolside",
    "ProviderOptionsPrimeintellect",
    "ProviderOptionsQuiver",
    "ProviderOptionsRecraft",
    "ProviderOptionsRecursal",
    "ProviderOptionsRecursive",
    "ProviderOptionsReflection",
    "ProviderOptionsReka",
    "ProviderOptionsRelace",
    "ProviderOptionsReplicate",
    "ProviderOptionsRespan",
    "ProviderOptionsRunway",
    "ProviderOptionsSailResearch",
    "ProviderOptionsSakana",
    "ProviderOptionsSakanaAi",
    "ProviderOptionsSambanova",
    "ProviderOptionsSambanovaCloaked",
    "ProviderOptionsScaledown",
    "ProviderOptionsSeed",
    "ProviderOptionsSfCompute",
    "ProviderOptionsSiliconflow",
    "ProviderOptionsSourceful",
    "ProviderOptionsStealth",
    "ProviderOptionsStepfun",
    "ProviderOptionsStreamlake",
    "ProviderOptionsSwitchpoint",
    "ProviderOptionsTargon",
    "ProviderOptionsTencent",
    "ProviderOptionsTenstorrent",
    "ProviderOptionsThinkingmachines",
    "ProviderOptionsTogether",
    "ProviderOptionsTogetherLite",
    "ProviderOptionsTypesafe",
    "ProviderOptionsUbicloud",
    "ProviderOptionsUnbiased",
    "ProviderOptionsUpstage",
    "ProviderOptionsVenice",
    "ProviderOptionsVoyageai",
    "ProviderOptionsWafer",
    "ProviderOptionsWandb",
    "ProviderOptionsWandbLegacy",
    "ProviderOptionsXai",
    "ProviderOptionsXiaomi",
    "ProviderOptionsZAi",
    "ServiceUnavailableResponse",
    "ServiceUnavailableResponseErrorData",
    "ServiceUnavailableResponseErrorDataMetadataType0",
    "ServiceUnavailableResponseOpenrouterMetadataType0",
    "TooManyRequestsResponse",
    "TooManyRequestsResponseErrorData",
    "TooManyRequestsResponseErrorDataMetadataType0",
    "TooManyRequestsResponseOpenrouterMetadataType0",
    "TraceConfig",
    "UnauthorizedResponse",
    "UnauthorizedResponseErrorData",
    "UnauthorizedResponseErrorDataMetadataType0",
    "UnauthorizedResponseOpenrouterMetadataType0",
    "VideoGenerationRequest",
    "VideoGenerationRequestAspectRatio",
    "VideoGenerationRequestProvider",
    "VideoGenerationRequestProviderOptions",
    "VideoGenerationRequestResolution",
    "VideoGenerationResponse",
    "VideoGenerationResponseStatus",
    "VideoGenerationUsage",
    "VideoModel",
    "VideoModelPricingSkusType0",
    "VideoModelsListResponse",
    "VideoModelSupportedAspectRatiosType0Item",
    "VideoModelSupportedFrameImagesType0Item",
    "VideoModelSupportedResolutionsType0Item",
    "VideoModelSupportedSizesType0Item",
    "VideoModelUpscaleFactorType0",
)
