"""Contains all the data models used in inputs/outputs"""

from .bad_gateway_response import BadGatewayResponse
from .bad_gateway_response_error_data import BadGatewayResponseErrorData
from .bad_gateway_response_error_data_metadata_type_0 import BadGatewayResponseErrorDataMetadataType0
from .bad_gateway_response_openrouter_metadata_type_0 import BadGatewayResponseOpenrouterMetadataType0
from .bad_request_response import BadRequestResponse
from .bad_request_response_error_data import BadRequestResponseErrorData
from .bad_request_response_error_data_metadata_type_0 import BadRequestResponseErrorDataMetadataType0
from .bad_request_response_openrouter_metadata_type_0 import BadRequestResponseOpenrouterMetadataType0
from .content_part_audio import ContentPartAudio
from .content_part_audio_audio_url import ContentPartAudioAudioUrl
from .content_part_audio_type import ContentPartAudioType
from .content_part_image import ContentPartImage
from .content_part_image_image_url import ContentPartImageImageUrl
from .content_part_image_type import ContentPartImageType
from .content_part_video import ContentPartVideo
from .content_part_video_type import ContentPartVideoType
from .content_part_video_video_url import ContentPartVideoVideoUrl
from .frame_image import FrameImage
from .frame_image_frame_type import FrameImageFrameType
from .internal_server_response import InternalServerResponse
from .internal_server_response_error_data import InternalServerResponseErrorData
from .internal_server_response_error_data_metadata_type_0 import InternalServerResponseErrorDataMetadataType0
from .internal_server_response_openrouter_metadata_type_0 import InternalServerResponseOpenrouterMetadataType0
from .not_found_response import NotFoundResponse
from .not_found_response_error_data import NotFoundResponseErrorData
from .not_found_response_error_data_metadata_type_0 import NotFoundResponseErrorDataMetadataType0
from .not_found_response_openrouter_metadata_type_0 import NotFoundResponseOpenrouterMetadataType0
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
from .provider_options_nebius import ProviderOptionsNebius
from .provider_options_nex_agi import ProviderOptionsNexAgi
from .provider_options_nextbit import ProviderOptionsNextbit
from .provider_options_nineteen import ProviderOptionsNineteen
from .provider_options_novita import ProviderOptionsNovita
from .provider_options_nvidia import ProviderOptionsNvidia
from .provider_options_octoai import ProviderOptionsOctoai
from .provider_options_open_inference import ProviderOptionsOpenInference
from .provider_options_openai import ProviderOptionsOpenai
from .provider_options_parasail import ProviderOptionsParasail
from .provider_options_perceptron import ProviderOptionsPerceptron
from .provider_options_perplexity import ProviderOptionsPerplexity
from .provider_options_phala import ProviderOptionsPhala
from .provider_options_poolside import ProviderOptionsPoolside
from .provider_options_quiver import ProviderOptionsQuiver
from .provider_options_recraft import ProviderOptionsRecraft
from .provider_options_recursal import ProviderOptionsRecursal
from .provider_options_reflection import ProviderOptionsReflection
from .provider_options_reka import ProviderOptionsReka
from .provider_options_relace import ProviderOptionsRelace
from .provider_options_replicate import ProviderOptionsReplicate
from .provider_options_runway import ProviderOptionsRunway
from .provider_options_sail_research import ProviderOptionsSailResearch
from .provider_options_sakana import ProviderOptionsSakana
from .provider_options_sakana_ai import ProviderOptionsSakanaAi
from .provider_options_sambanova import ProviderOptionsSambanova
from .provider_options_sambanova_cloaked import ProviderOptionsSambanovaCloaked
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
from .provider_options_ubicloud import ProviderOptionsUbicloud
from .provider_options_upstage import ProviderOptionsUpstage
from .provider_options_venice import ProviderOptionsVenice
from .provider_options_voyageai import ProviderOptionsVoyageai
from .provider_options_wafer import ProviderOptionsWafer
from .provider_options_wandb import ProviderOptionsWandb
from .provider_options_wandb_legacy import ProviderOptionsWandbLegacy
from .provider_options_xai import ProviderOptionsXai
from .provider_options_xiaomi import ProviderOptionsXiaomi
from .provider_options_z_ai import ProviderOptionsZAi
from .too_many_requests_response import TooManyRequestsResponse
from .too_many_requests_response_error_data import TooManyRequestsResponseErrorData
from .too_many_requests_response_error_data_metadata_type_0 import TooManyRequestsResponseErrorDataMetadataType0
from .too_many_requests_response_openrouter_metadata_type_0 import TooManyRequestsResponseOpenrouterMetadataType0
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

__all__ = (
    "BadGatewayResponse",
    "BadGatewayResponseErrorData",
    "BadGatewayResponseErrorDataMetadataType0",
    "BadGatewayResponseOpenrouterMetadataType0",
    "BadRequestResponse",
    "BadRequestResponseErrorData",
    "BadRequestResponseErrorDataMetadataType0",
    "BadRequestResponseOpenrouterMetadataType0",
    "ContentPartAudio",
    "ContentPartAudioAudioUrl",
    "ContentPartAudioType",
    "ContentPartImage",
    "ContentPartImageImageUrl",
    "ContentPartImageType",
    "ContentPartVideo",
    "ContentPartVideoType",
    "ContentPartVideoVideoUrl",
    "FrameImage",
    "FrameImageFrameType",
    "InternalServerResponse",
    "InternalServerResponseErrorData",
    "InternalServerResponseErrorDataMetadataType0",
    "InternalServerResponseOpenrouterMetadataType0",
    "NotFoundResponse",
    "NotFoundResponseErrorData",
    "NotFoundResponseErrorDataMetadataType0",
    "NotFoundResponseOpenrouterMetadataType0",
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
    "ProviderOptionsNebius",
    "ProviderOptionsNexAgi",
    "ProviderOptionsNextbit",
    "ProviderOptionsNineteen",
    "ProviderOptionsNovita",
    "ProviderOptionsNvidia",
    "ProviderOptionsOctoai",
    "ProviderOptionsOpenai",
    "ProviderOptionsOpenInference",
    "ProviderOptionsParasail",
    "ProviderOptionsPerceptron",
    "ProviderOptionsPerplexity",
    "ProviderOptionsPhala",
    "ProviderOptionsPoolside",
    "ProviderOptionsQuiver",
    "ProviderOptionsRecraft",
    "ProviderOptionsRecursal",
    "ProviderOptionsReflection",
    "ProviderOptionsReka",
    "ProviderOptionsRelace",
    "ProviderOptionsReplicate",
    "ProviderOptionsRunway",
    "ProviderOptionsSailResearch",
    "ProviderOptionsSakana",
    "ProviderOptionsSakanaAi",
    "ProviderOptionsSambanova",
    "ProviderOptionsSambanovaCloaked",
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
    "ProviderOptionsUbicloud",
    "ProviderOptionsUpstage",
    "ProviderOptionsVenice",
    "ProviderOptionsVoyageai",
    "ProviderOptionsWafer",
    "ProviderOptionsWandb",
    "ProviderOptionsWandbLegacy",
    "ProviderOptionsXai",
    "ProviderOptionsXiaomi",
    "ProviderOptionsZAi",
    "TooManyRequestsResponse",
    "TooManyRequestsResponseErrorData",
    "TooManyRequestsResponseErrorDataMetadataType0",
    "TooManyRequestsResponseOpenrouterMetadataType0",
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
