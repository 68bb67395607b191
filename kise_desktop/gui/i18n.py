"""Every user-visible GUI string, in English and Korean, in one table.

Emotion names are not here: they come from `kise_desktop.emotions` (the one
place for them). Look strings up with `tr(key, lang)`; a missing Korean entry
falls back to English, a missing key raises KeyError (caught by the tests).
Why a file or camera cannot be read comes from the core as a reason key
(`core.sources.REASONS`, in English); `error_text` gives it in Korean.

Numbers are written the same way in both languages, with a decimal point and
no group separator ("1.20", "86.6%"): `number_locale()` is the Qt locale for
that, `use_decimal_point(widget)` gives it to a widget and its spin boxes (Qt
would otherwise follow the system's locale, "1,20" on many European setups).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

LANGUAGES: tuple[str, ...] = ("ko", "en")
LANGUAGE_NAMES = {"ko": "한국어", "en": "English"}

_STRINGS: dict[str, dict[str, str]] = {
    "app_title": {"en": "KISE - live emotion recognition", "ko": "KISE - 실시간 감정 인식"},
    # menus / actions
    "menu_file": {"en": "&File", "ko": "파일(&F)"},
    "menu_view": {"en": "&View", "ko": "보기(&V)"},
    "menu_lang": {"en": "&Language", "ko": "언어(&L)"},
    "act_open_video": {"en": "Open video...", "ko": "동영상 열기..."},
    "act_open_photos": {"en": "Open photos...", "ko": "사진 열기..."},
    "act_open_folder": {"en": "Open folder...", "ko": "폴더 열기..."},
    "act_open_model": {"en": "Open model...", "ko": "모델 열기..."},
    "act_snapshot": {"en": "Save snapshot...", "ko": "스냅샷 저장..."},
    "act_quit": {"en": "Quit", "ko": "종료"},
    # source panel
    "grp_source": {"en": "Source", "ko": "입력"},
    "camera": {"en": "Camera", "ko": "카메라"},
    "camera_n": {"en": "Camera {n}", "ko": "카메라 {n}"},
    "no_cameras": {"en": "(no camera found)", "ko": "(카메라 없음)"},
    "btn_refresh": {"en": "Refresh", "ko": "새로 고침"},
    "btn_start_camera": {"en": "Start camera", "ko": "카메라 시작"},
    "btn_stop": {"en": "Stop", "ko": "정지"},
    "btn_open_file": {"en": "Open file...", "ko": "파일 열기..."},
    "btn_retry": {"en": "Retry", "ko": "다시 시도"},
    "btn_replay": {"en": "Play again", "ko": "다시 재생"},
    "btn_prev": {"en": "< Previous", "ko": "< 이전"},
    "btn_next": {"en": "Next >", "ko": "다음 >"},
    "btn_save_photo": {"en": "Save image + JSON...", "ko": "이미지 + JSON 저장..."},
    "photo_pos": {"en": "Photo {i} / {n}: {name}", "ko": "사진 {i} / {n}: {name}"},
    "probing": {"en": "looking for cameras...", "ko": "카메라 찾는 중..."},
    # detector panel
    "grp_detector": {"en": "Face detector", "ko": "얼굴 검출기"},
    "compare": {"en": "Compare detectors", "ko": "검출기 비교"},
    "detect_rate": {"en": "Find faces", "ko": "얼굴 찾기"},
    "rate_every_frame": {"en": "in every frame", "ko": "매 프레임"},
    "rate_per_second": {"en": "{n:g} times a second (less CPU)", "ko": "초당 {n:g}회 (CPU 절약)"},
    "detect_rate_tip": {"en": "Live video only. Between two detections the last boxes are reused; every frame's "
                              "emotions are still read. Halves the CPU a laptop spends on a 30 fps camera.",
                        "ko": "실시간 영상에만 적용됩니다. 두 번의 검출 사이에는 직전 상자를 다시 쓰고, 감정은 매 프레임 "
                              "읽습니다. 30 fps 카메라에서 노트북의 CPU 사용이 절반으로 줄어듭니다."},
    "full_size": {"en": "full size", "ko": "원본 크기"},
    "btn_defaults": {"en": "Defaults", "ko": "기본값"},
    # model panel
    "grp_model": {"en": "Emotion model", "ko": "감정 모델"},
    "model_info": {"en": "{name}\n{classes} classes, accuracy {acc}", "ko": "{name}\n{classes}개 감정, 정확도 {acc}"},
    "model_unknown_acc": {"en": "n/a", "ko": "정보 없음"},
    "no_model": {"en": "No emotion model loaded", "ko": "감정 모델이 없습니다"},
    "model_error": {"en": "Could not load the model {path}:\n{error}", "ko": "모델을 불러올 수 없습니다 {path}:\n{error}"},
    # recording
    "grp_record": {"en": "Record", "ko": "기록"},
    "btn_record": {"en": "Record CSV...", "ko": "CSV 기록..."},
    "btn_stop_record": {"en": "Stop recording", "ko": "기록 중지"},
    "btn_snapshot": {"en": "Snapshot PNG...", "ko": "스냅샷 PNG..."},
    "recording": {"en": "recording: {n} rows", "en_one": "recording: {n} row", "ko": "기록 중: {n}행"},
    # history
    "grp_history": {"en": "Emotion history", "ko": "감정 기록"},
    "grp_probs": {"en": "Emotion probabilities", "ko": "감정 확률"},
    "history_face": {"en": "face #{id}", "ko": "얼굴 #{id}"},
    "history_face_of": {"en": "face #{id} ({det})", "ko": "얼굴 #{id} ({det})"},
    "history_none": {"en": "no face", "ko": "얼굴 없음"},
    "history_seconds": {"en": "Window (s)", "ko": "구간 (초)"},
    "axis_time": {"en": "seconds", "ko": "초"},
    # performance
    "perf": {"en": "{fps:.1f} fps shown | pipeline {pfps:.1f} fps", "ko": "표시 {fps:.1f} fps | 처리 {pfps:.1f} fps"},
    "perf_stages": {"en": "grab {grab:.1f} | {detect} | classify {classify:.1f} | draw {draw:.1f} ms",
                    "ko": "캡처 {grab:.1f} | {detect} | 분류 {classify:.1f} | 그리기 {draw:.1f} ms"},
    # one detector's time; in compare mode, each detector's (the captions show the same numbers)
    "perf_detect": {"en": "detect {ms:.1f}", "ko": "검출 {ms:.1f}"},
    "perf_detect_each": {"en": "detect: {times}", "ko": "검출: {times}"},
    "detector_failed": {"en": "Detector {det} is unavailable, using {fallback}:\n{error}",
                        "ko": "검출기 {det}을(를) 쓸 수 없어 {fallback}(으)로 바꿉니다:\n{error}"},
    "no_model_notice": {"en": "No emotion model: faces are not analysed. File > Open model...",
                        "ko": "감정 모델 없음: 얼굴을 분석하지 않습니다. 파일 > 모델 열기..."},
    "compare_caption": {"en": "{det}: {n} faces, detect {ms:.1f} ms", "en_one": "{det}: {n} face, detect {ms:.1f} ms",
                        "ko": "{det}: 얼굴 {n}개, 검출 {ms:.1f} ms"},
    # states
    "state_idle": {"en": "Choose a camera, or open a video, photos or a folder (or drop them here).",
                   "ko": "카메라를 고르거나 동영상, 사진, 폴더를 여세요 (여기에 끌어다 놓아도 됩니다)."},
    "state_opening": {"en": "Opening {name}...", "ko": "{name} 여는 중..."},
    "state_no_camera": {"en": "No camera found.", "ko": "카메라를 찾을 수 없습니다."},
    "state_open_failed": {"en": "Could not open {name}.\nThe camera may be in use by another program, or unplugged.\n{error}",
                          "ko": "{name}을(를) 열 수 없습니다.\n다른 프로그램이 카메라를 사용 중이거나 연결이 끊겼을 수 있습니다.\n{error}"},
    "state_lost": {"en": "The camera stopped sending frames (unplugged?).\n{error}",
                   "ko": "카메라에서 영상이 더 이상 오지 않습니다 (연결 끊김?).\n{error}"},
    "state_ended": {"en": "End of video: {name}", "ko": "동영상 끝: {name}"},
    "state_bad_file": {"en": "Could not open {name}:\n{error}", "ko": "{name}을(를) 열 수 없습니다:\n{error}"},
    "error_title": {"en": "KISE", "ko": "KISE"},
    "saved": {"en": "Saved {path}", "ko": "저장됨: {path}"},
    "save_failed": {"en": "Could not save {path}: {error}", "ko": "저장 실패 {path}: {error}"},
    "nothing_to_save": {"en": "Nothing to save yet.", "ko": "아직 저장할 것이 없습니다."},
    "filter_video": {"en": "Videos (*.mp4 *.avi *.mov *.mkv *.webm);;All files (*)",
                     "ko": "동영상 (*.mp4 *.avi *.mov *.mkv *.webm);;모든 파일 (*)"},
    "filter_media": {"en": "Videos and photos (*.mp4 *.avi *.mov *.mkv *.webm *.jpg *.jpeg *.png *.bmp *.webp);;All files (*)",
                     "ko": "동영상과 사진 (*.mp4 *.avi *.mov *.mkv *.webm *.jpg *.jpeg *.png *.bmp *.webp);;모든 파일 (*)"},
    "filter_images": {"en": "Images (*.jpg *.jpeg *.png *.bmp *.webp);;All files (*)",
                      "ko": "이미지 (*.jpg *.jpeg *.png *.bmp *.webp);;모든 파일 (*)"},
    "filter_model": {"en": "TFLite models (*.tflite)", "ko": "TFLite 모델 (*.tflite)"},
    "filter_csv": {"en": "CSV (*.csv)", "ko": "CSV (*.csv)"},
    "filter_png": {"en": "PNG (*.png)", "ko": "PNG (*.png)"},
    # about dialog (texts from kise_desktop.about_info; licence texts are shown in their original English)
    "menu_help": {"en": "&Help", "ko": "도움말(&H)"},
    "act_about": {"en": "About KISE...", "ko": "KISE 정보..."},
    "about_title": {"en": "About KISE", "ko": "KISE 정보"},
    "about_intro": {"en": "Live facial emotion recognition on a laptop CPU, fully offline.",
                    "ko": "노트북 CPU에서 인터넷 없이 동작하는 실시간 얼굴 감정 인식."},
    "about_version": {"en": "Version {version} (Python {python})", "ko": "버전 {version} (Python {python})"},
    "about_models": {"en": "Bundled models", "ko": "내장 모델"},
    "about_model_emotion": {"en": "{file}: {name}, emotion classifier, {classes} classes, accuracy {acc}",
                            "ko": "{file}: {name}, 감정 분류기, {classes}개 감정, 정확도 {acc}"},
    "about_evaluated_on": {"en": "measured on: {what}", "ko": "측정: {what}"},
    "about_model_detector": {"en": "{file}: {name}, face detector", "ko": "{file}: {name}, 얼굴 검출기"},
    "about_model_other": {"en": "{file}: {name}", "ko": "{file}: {name}"},
    "about_builtin": {"en": "Built in: OpenCV Haar cascade (opencv-python-headless), dlib HOG detector (dlib-bin).",
                      "ko": "기본 포함: OpenCV Haar 캐스케이드 (opencv-python-headless), dlib HOG 검출기 (dlib-bin)."},
    "about_no_models": {"en": "No model files in {path}", "ko": "{path}에 모델 파일이 없습니다"},
    "about_libraries": {"en": "Libraries (licence as each package declares it)",
                        "ko": "라이브러리 (각 패키지가 밝힌 라이선스)"},
    "about_licences": {"en": "Licences of what is bundled", "ko": "포함된 구성 요소의 라이선스"},
    "about_licence_hint": {"en": "Choose an entry to read its licence text (in the original English).",
                           "ko": "항목을 고르면 라이선스 전문(영어 원문)을 볼 수 있습니다."},
    "about_no_text": {"en": "(No licence text is bundled for this entry.)",
                      "ko": "(이 항목의 라이선스 전문은 포함되어 있지 않습니다.)"},
    "about_resources": {"en": "Resources: {path}", "ko": "리소스 위치: {path}"},
    "lic_code": {"en": "KISE program code: Apache License 2.0",
                 "ko": "KISE 프로그램 코드: Apache 라이선스 2.0"},
    "lic_emotion_model_fer": {"en": "Emotion model {subject}: trained on FER2013 images (research use only) with "
                                    "Microsoft's FER+ labels (MIT licence). Read the model card before using it "
                                    "beyond research and demos.",
                              "ko": "감정 모델 {subject}: FER2013 이미지(연구 목적으로만 사용 가능)와 Microsoft FER+ "
                                    "레이블(MIT 라이선스)로 학습했습니다. 연구와 시연 이외의 용도로 쓰기 전에 모델 "
                                    "카드를 읽어 주세요."},
    "lic_emotion_model": {"en": "Emotion model {subject}: {licence}", "ko": "감정 모델 {subject}: {licence}"},
    "lic_face_detector_yunet": {"en": "Face detector YuNet {subject}: MIT licence (OpenCV Zoo) and Apache License 2.0 "
                                      "(libfacedetection.train)",
                                "ko": "얼굴 검출기 YuNet {subject}: MIT 라이선스 (OpenCV Zoo), Apache 라이선스 2.0 "
                                      "(libfacedetection.train)"},
    "lic_face_detector_yunet_apache": {"en": "Face detector YuNet {subject}: Apache License 2.0 (libfacedetection.train)",
                                       "ko": "얼굴 검출기 YuNet {subject}: Apache 라이선스 2.0 (libfacedetection.train)"},
    "lic_model_other": {"en": "Model {subject}: {licence}", "ko": "모델 {subject}: {licence}"},
    "lic_font_nanum": {"en": "Korean font NanumGothic ({subject}): SIL Open Font License 1.1, (c) NAVER",
                       "ko": "한글 글꼴 나눔고딕 ({subject}): SIL 오픈 폰트 라이선스 1.1, (c) NAVER"},
    "lic_other": {"en": "{subject}", "ko": "{subject}"},
    "lic_library": {"en": "Library {name} {version}: {licence}", "ko": "라이브러리 {name} {version}: {licence}"},
    "btn_close": {"en": "Close", "ko": "닫기"},
    # side panel tabs
    "tab_input": {"en": "Input", "ko": "입력"},
    "tab_settings": {"en": "Settings", "ko": "설정"},
    # history options / face choice
    "history_raw": {"en": "raw per frame", "ko": "프레임별 원시값"},
    "history_raw_tip": {"en": "Plot each frame's own probabilities instead of the smoothed ones",
                        "ko": "평활화한 값 대신 프레임마다의 확률을 그립니다"},
    "face_choice": {"en": "Face", "ko": "얼굴"},
    "face_auto": {"en": "largest face", "ko": "가장 큰 얼굴"},
    "face_item": {"en": "#{id}: {label}", "ko": "#{id}: {label}"},
    "uncertain": {"en": "?", "ko": "?"},
    # input checks and warnings beside the settings
    "out_of_range": {"en": "{value} is out of range ({low} to {high}); kept {kept}",
                     "ko": "{value}은(는) 범위({low}~{high}) 밖입니다. {kept}(으)로 유지합니다"},
    "warn_slow": {"en": "Slow: {ms:.0f} ms a frame (over {limit:.0f} ms). Try a larger scale factor, "
                        "less upsampling or a smaller detection width.",
                  "ko": "느림: 프레임당 {ms:.0f} ms ({limit:.0f} ms 초과). 배율을 키우거나 업샘플링 또는 "
                        "검출 너비를 줄여 보세요."},
    "warn_no_face": {"en": "No face found for {s:.0f} s: try fewer min neighbours or a smaller min face size.",
                     "ko": "{s:.0f}초 동안 얼굴을 찾지 못했습니다: 최소 이웃 수나 최소 얼굴 크기를 줄여 보세요."},
    # model panel: what the sidecar says
    "model_switched": {"en": "Emotion model: {name} ({classes} classes)",
                       "ko": "감정 모델: {name} ({classes}개 감정)"},
    "model_emotions": {"en": "emotions: {names}", "ko": "감정: {names}"},
    "model_trained_on": {"en": "trained on: {what}", "ko": "학습 데이터: {what}"},
    "model_licence": {"en": "licence: {licence}", "ko": "라이선스: {licence}"},
    "model_notes": {"en": "note: {notes}", "ko": "참고: {notes}"},
    "model_mirror_on": {"en": "mirror averaged", "ko": "좌우 반전 평균"},
    "model_mirror_off": {"en": "one pass", "ko": "한 번 계산"},
    "model_mirror_tip_on": {"en": "Each face is read together with its mirror image and the two readings are "
                                  "averaged (about 1 point more accurate, twice the model's time).",
                            "ko": "얼굴마다 좌우 반전 이미지와 함께 읽어 두 결과를 평균합니다 (정확도 약 1%p 향상, "
                                  "모델 시간 2배)."},
    "model_mirror_tip_off": {"en": "Each face is read once: this CPU has no int8 dot product (AVX-512 VNNI, "
                                   "AVX-VNNI), so mirror averaging would double the time per face.",
                             "ko": "얼굴마다 한 번만 읽습니다: 이 CPU에는 int8 내적 명령(AVX-512 VNNI, AVX-VNNI)이 "
                                   "없어 좌우 반전 평균은 얼굴당 시간을 두 배로 늘립니다."},
    "model_mirror_tip_chosen_off": {"en": "Each face is read once, as chosen under Mirror averaging.",
                                    "ko": "좌우 반전 평균 설정에 따라 얼굴마다 한 번만 읽습니다."},
    "mirror_choice": {"en": "Mirror averaging", "ko": "좌우 반전 평균"},
    "mirror_choice_auto": {"en": "automatic", "ko": "자동"},
    "mirror_choice_on": {"en": "on", "ko": "켜기"},
    "mirror_choice_off": {"en": "off", "ko": "끄기"},
    "mirror_choice_tip": {"en": "Automatic: as the model's sidecar says (the bundled model mirrors where the CPU "
                                "has an int8 dot product). On: about 1 point more accurate, twice the model's time "
                                "per face. Off: the fastest.",
                          "ko": "자동: 모델 설명 파일을 따릅니다 (기본 모델은 CPU에 int8 내적 명령이 있을 때 반전 평균). "
                                "켜기: 정확도 약 1%p 향상, 얼굴당 모델 시간 2배. 끄기: 가장 빠름."},
    # session report
    "btn_report": {"en": "Session report...", "ko": "세션 보고서..."},
    "report_none": {"en": "Record a session first (Record CSV...).", "ko": "먼저 세션을 기록하세요 (CSV 기록...)."},
    "report_tip": {"en": "An HTML summary of the last recording (make one with Record CSV... first)",
                   "ko": "마지막 기록의 HTML 요약 (먼저 CSV 기록...으로 기록하세요)"},
    "filter_html": {"en": "HTML report (*.html)", "ko": "HTML 보고서 (*.html)"},
}

# Why a source cannot be read (the keys of kise_desktop.core.sources.REASONS) in Korean; the
# English words are the core's own. The same placeholders as the core's text (a test checks).
_REASONS_KO: dict[str, str] = {
    "no_such_file": "파일이 없습니다",
    "no_such_path": "파일이나 폴더가 없습니다",
    "cannot_read": "읽을 수 없습니다 ({error})",
    "is_folder": "파일이 아니라 폴더입니다",
    "folder_not_image": "이미지가 아니라 폴더입니다",
    "special_file": "일반 파일이 아니라 {kind}입니다. KISE는 일반 파일만 읽습니다",
    "empty": "빈 파일입니다",
    "too_many_pixels": "{width}x{height}, {pixels:,} 픽셀로 KISE의 한도({limit:,} 픽셀)를 넘습니다. 먼저 크기를 줄이세요",
    "not_image": "이미지 파일이 아니거나 KISE가 읽을 수 없는 형식입니다",
    "too_large": "너무 커서 디코딩할 수 없습니다",
    "out_of_memory": "메모리가 부족해 디코딩할 수 없습니다",
    "damaged": "손상되었거나 잘린 이미지입니다 ({error})",
    "no_images": "이 폴더에 이미지가 없습니다",
    "not_video": "동영상으로 열 수 없습니다 (코덱이 없거나 동영상이 아닙니다)",
    "no_frames": "읽을 수 있는 프레임이 없습니다",
    "unreadable": "KISE가 읽을 수 있는 이미지나 동영상이 아닙니다",
    "camera_missing": "찾을 수 없거나 열 수 없습니다",
    "camera_stopped": "영상을 더 이상 보내지 않습니다 (연결이 끊겼거나 다른 프로그램이 사용 중?)",
}
_SPECIAL_FILE_KINDS_KO = {"a FIFO (named pipe)": "FIFO(이름 있는 파이프)", "a socket": "소켓", "a device": "장치",
                          "a special file": "특수 파일"}

# Why a model or its sidecar cannot be used (the keys of kise_desktop.core.classifier.MODEL_REASONS).
_MODEL_REASONS_KO: dict[str, str] = {
    "model_missing": "모델 파일이 없습니다",
    "bundled_missing": "기본 모델 파일이 없습니다. --model 파일을 지정하세요",
    "model_empty": "빈 모델 파일입니다",
    "model_unusable": "사용할 수 있는 TFLite 모델이 아닙니다 ({error})",
    "model_input_shape": "입력이 채널 1개나 3개인 NHWC 이미지여야 하는데 {shape}입니다",
    "model_input_type": "지원하지 않는 입력 형식입니다: {dtype}",
    "model_no_input_scale": "양자화된 입력에 스케일 값이 없습니다",
    "sidecar_missing": "모델 설명 파일(JSON)이 없습니다",
    "sidecar_unreadable": "읽을 수 있는 JSON 설명 파일이 아닙니다 ({error})",
    "sidecar_not_object": "설명 파일은 JSON 객체여야 합니다",
    "sidecar_lacks_key": "설명 파일에 '{key}' 키가 없습니다",
    "sidecar_label_count": "감정 {labels}개를 적었지만 {model}의 출력은 {outputs}개입니다",
    "field_not_text": "'{field}' 필드는 텍스트여야 합니다 (지금: {value})",
    "field_not_emotions": "'{field}' 필드는 감정 이름의 목록이어야 합니다 (지금: {value})",
    "field_too_few": "'{field}' 필드에 감정이 두 개 이상 있어야 합니다 (지금: {count}개)",
    "field_unknown_emotions": "'{field}' 필드에 알 수 없는 감정이 있습니다: {names}",
    "field_repeated": "'{field}' 필드에 같은 감정이 여러 번 있습니다 ({names})",
    "field_not_normalization": "'{field}' 필드는 숫자 'scale'과 'offset'을 가진 객체여야 합니다",
    "field_not_finite": "'{field}' 필드는 유한한 숫자여야 합니다 (지금: {value})",
    "field_scale_range": "'{field}' 필드는 0이 아니고 크기가 1000 이하여야 합니다 (지금: {value})",
    "field_offset_range": "'{field}' 필드는 [-1000, 1000] 안에 있어야 합니다 (지금: {value})",
    "field_margin": "'{field}' 필드는 [0, 1] 사이의 숫자(상자에 대한 비율)여야 합니다 (지금: {value})",
    "field_one_of": "'{field}' 필드는 {choices} 중 하나여야 합니다 (지금: {value})",
    "field_not_input": "'{field}' 필드는 객체(shape, dtype, color)여야 합니다",
    "field_not_restore": "'{field}' 필드는 'dark_below'나 'noise_above'를 가진 객체여야 합니다",
    "field_not_restore_key": "'{field}'는 복원 설정이 아닙니다 (dark_below, noise_above)",
    "field_grey_level": "'{field}' 필드는 [0, {limit}] 범위의 회색 값이나 null이어야 합니다 (지금: {value})",
}
# the two tables' keys are distinct (a test checks), so one look-up serves every reasoned error
_KOREAN_REASONS: dict[str, str] = {**_REASONS_KO, **_MODEL_REASONS_KO}


def error_text(error: str, problem: Any, lang: str, named: str | None = None) -> str:
    """An error in `lang`: `problem` (a core SourceError or ModelError) in this language's words,
    else `error` as is. `named`: the file the message around it already names; a problem about
    that same file then reads as its reason alone ("Could not open a.mp4: not a video", not the
    path twice)."""
    reason = getattr(problem, "reason", "")
    subject = str(getattr(problem, "subject", "") or "")
    same_file = bool(reason and subject and named) and Path(subject).name == Path(str(named)).name
    if lang == "en" or reason not in _KOREAN_REASONS:
        prefix = f"{subject}: "
        return error[len(prefix):] if same_file and error.startswith(prefix) else error
    values = {k: _SPECIAL_FILE_KINDS_KO.get(v, v) if isinstance(v, str) else v for k, v in problem.values.items()}
    text = _KOREAN_REASONS[reason].format(**values)
    if same_file:
        return text
    subject = tr("camera_n", lang, n=values["camera"]) if "camera" in values else problem.subject
    return f"{subject}: {text}"


def tr(key: str, lang: str = "ko", **fmt: object) -> str:
    """The string `key` in `lang` ('ko' or 'en'), formatted with `fmt`; an entry's "en_one" is its
    English for a count `n` of 1 ("1 face", not "1 faces"; Korean has no plural)."""
    entry = _STRINGS[key]
    text = (fmt.get("n") == 1 and entry.get(f"{lang}_one")) or entry.get(lang) or entry["en"]
    return text.format(**fmt) if fmt else text


def number_locale() -> Any:
    """The Qt locale numbers are shown and typed in: a decimal point, no group separator."""
    from PySide6.QtCore import QLocale   # here: the string table itself needs no Qt

    locale = QLocale.c()
    locale.setNumberOptions(QLocale.NumberOption.OmitGroupSeparator | QLocale.NumberOption.RejectGroupSeparator)
    return locale


def use_decimal_point(widget: Any) -> None:
    """`widget` and every spin box in it show and accept numbers with a decimal point.

    Children that get no locale of their own inherit the widget's; spin boxes are set
    explicitly too, since a form may be built before it is put in the window."""
    from PySide6.QtWidgets import QAbstractSpinBox

    locale = number_locale()
    widget.setLocale(locale)
    for spin in widget.findChildren(QAbstractSpinBox):
        spin.setLocale(locale)


def format_number(value: float, decimals: int = 1) -> str:
    """A number as the GUI writes it in both languages (decimal point, no grouping)."""
    return f"{value:.{decimals}f}"


def keys() -> list[str]:
    return list(_STRINGS)


def missing(lang: str) -> list[str]:
    """Keys without a translation in `lang` (for tests)."""
    return [k for k, v in _STRINGS.items() if not v.get(lang)]
