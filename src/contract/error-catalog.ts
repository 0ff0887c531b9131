/**
 * The one error catalog: every error the service can report, with its HTTP status, whether
 * trying again may help, its class (used by the worker's retry policy) and the message shown to people.
 */
export const ERROR_CLASSES = [
  'input',
  'transient',
  'rate_limit',
  'timeout',
  'cancelled',
  'internal',
] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

export interface CatalogEntry {
  status: number;
  retryable: boolean;
  errorClass: ErrorClass;
  title: string;
  message: { en: string; hi: string };
}

function entry(status: number, errorClass: ErrorClass, title: string, en: string, hi: string): CatalogEntry {
  const retryable = errorClass === 'transient' || errorClass === 'rate_limit' || errorClass === 'timeout';
  return { status, retryable, errorClass, title, message: { en, hi } };
}

export const ERROR_CATALOG = {
  // Requests
  VALIDATION_FAILED: entry(
    400,
    'input',
    'Invalid request',
    'Some request fields are missing or invalid.',
    'अनुरोध के कुछ फ़ील्ड गायब या अमान्य हैं।',
  ),
  FILE_MISSING: entry(
    400,
    'input',
    'No file',
    'Attach the file to transcribe in the multipart field "file".',
    'कृपया "file" फ़ील्ड में फ़ाइल संलग्न करें।',
  ),
  UPLOAD_EMPTY: entry(400, 'input', 'Empty file', 'The uploaded file is empty.', 'अपलोड की गई फ़ाइल खाली है।'),
  UPLOAD_TOO_LARGE: entry(
    413,
    'input',
    'File too large',
    'The file is larger than this service accepts.',
    'फ़ाइल इस सेवा की अनुमत सीमा से बड़ी है।',
  ),
  UNSUPPORTED_MEDIA_TYPE: entry(
    415,
    'input',
    'Unsupported file type',
    'This file type is not supported. Upload a PDF, an image, or an audio or video recording.',
    'यह फ़ाइल प्रकार समर्थित नहीं है। PDF, चित्र, या ऑडियो/वीडियो रिकॉर्डिंग अपलोड करें।',
  ),
  JOB_TYPE_MISMATCH: entry(
    422,
    'input',
    'Job type does not match the file',
    'The requested job type does not match the content of the file.',
    'चुना गया कार्य प्रकार फ़ाइल की सामग्री से मेल नहीं खाता।',
  ),
  REQUEST_BODY_INVALID: entry(
    400,
    'input',
    'Malformed request body',
    'The request body could not be read. Send multipart/form-data with a "file" field.',
    'अनुरोध पढ़ा नहीं जा सका। "file" फ़ील्ड के साथ multipart/form-data भेजें।',
  ),
  ROUTE_NOT_FOUND: entry(
    404,
    'input',
    'Not found',
    'There is nothing at this address.',
    'इस पते पर कुछ नहीं है।',
  ),
  JOB_NOT_FOUND: entry(
    404,
    'input',
    'Job not found',
    'No job with this id exists for your account.',
    'आपके खाते में इस आईडी का कोई कार्य नहीं है।',
  ),
  DEAD_LETTER_NOT_FOUND: entry(
    404,
    'input',
    'Dead letter not found',
    'There is no dead letter for this job: it did not fail, was replayed, or was purged.',
    'इस कार्य का कोई डेड लेटर नहीं है: यह विफल नहीं हुआ, पुनः चलाया गया, या हटा दिया गया।',
  ),
  FEATURE_FLAG_UNKNOWN: entry(
    404,
    'input',
    'Unknown feature flag',
    'There is no feature flag of that name: GET /v1/admin/flags lists them.',
    'इस नाम का कोई फ़ीचर फ़्लैग नहीं है: GET /v1/admin/flags सूची देता है।',
  ),
  JOB_NOT_CANCELLABLE: entry(
    409,
    'input',
    'Job already finished',
    'The job has already finished and cannot be cancelled.',
    'कार्य पहले ही समाप्त हो चुका है, उसे रद्द नहीं किया जा सकता।',
  ),
  JOB_NOT_RETRYABLE: entry(
    409,
    'input',
    'Job cannot be retried',
    'Only a failed or cancelled job can be retried.',
    'केवल विफल या रद्द किए गए कार्य को पुनः चलाया जा सकता है।',
  ),
  JOB_STILL_RUNNING: entry(
    409,
    'transient',
    'Job still stopping',
    'The job is still being stopped by its worker; try again in a few seconds.',
    'कार्य को उसका वर्कर अभी रोक रहा है; कुछ क्षण बाद पुनः प्रयास करें।',
  ),
  RESULT_NOT_READY: entry(
    409,
    'input',
    'Result not ready',
    'The job has not completed yet; its result is not available.',
    'कार्य अभी पूरा नहीं हुआ है; परिणाम उपलब्ध नहीं है।',
  ),
  RESULT_FORMAT_UNAVAILABLE: entry(
    404,
    'input',
    'Format not available',
    'This job has no result in the requested format.',
    'इस कार्य का परिणाम माँगे गए प्रारूप में उपलब्ध नहीं है।',
  ),
  IDEMPOTENCY_KEY_INVALID: entry(
    400,
    'input',
    'Invalid Idempotency-Key',
    'The Idempotency-Key header must be 1 to 255 visible ASCII characters.',
    'Idempotency-Key हेडर में 1 से 255 दृश्य ASCII अक्षर होने चाहिए।',
  ),
  IDEMPOTENCY_KEY_IN_USE: entry(
    409,
    'transient',
    'Request with this key in progress',
    'A request with the same Idempotency-Key is still being processed; wait for it to finish, then retry.',
    'इसी Idempotency-Key वाला अनुरोध अभी चल रहा है; उसके पूरा होने के बाद पुनः प्रयास करें।',
  ),
  IDEMPOTENCY_KEY_MISMATCH: entry(
    422,
    'input',
    'Idempotency-Key reused with a different request',
    'This Idempotency-Key was already used with a different file or different parameters. Use a new key for a new upload.',
    'यह Idempotency-Key किसी अन्य फ़ाइल या अन्य विकल्पों के साथ पहले ही उपयोग हो चुकी है। नए अपलोड के लिए नई कुंजी उपयोग करें।',
  ),
  CURSOR_INVALID: entry(
    400,
    'input',
    'Invalid cursor',
    'The cursor is not valid for this list. Start again from the first page.',
    'यह कर्सर इस सूची के लिए मान्य नहीं है। पहले पृष्ठ से फिर शुरू करें।',
  ),
  // Inputs found bad while processing
  INPUT_UNREADABLE: entry(
    422,
    'input',
    'File unreadable',
    'The file is damaged or not in the format its content claims.',
    'फ़ाइल क्षतिग्रस्त है या पढ़ी नहीं जा सकी।',
  ),
  PDF_ENCRYPTED: entry(
    422,
    'input',
    'PDF is password-protected',
    'The PDF needs a password to open. Upload an unprotected copy.',
    'PDF पासवर्ड से सुरक्षित है। बिना सुरक्षा वाली प्रति अपलोड करें।',
  ),
  INPUT_TOO_COMPLEX: entry(
    422,
    'input',
    'File too complex',
    'The file has more pages or pixels than this service processes (a possible decompression bomb). Split it or scan at a lower resolution.',
    'फ़ाइल में इस सेवा की सीमा से अधिक पृष्ठ या पिक्सेल हैं। इसे भागों में बाँटें या कम रिज़ॉल्यूशन पर स्कैन करें।',
  ),
  PDF_NO_PAGES: entry(422, 'input', 'PDF has no pages', 'The PDF has no pages.', 'PDF में कोई पृष्ठ नहीं है।'),
  MEDIA_NO_AUDIO: entry(
    422,
    'input',
    'No audio',
    'The recording has no audio track.',
    'रिकॉर्डिंग में कोई ऑडियो ट्रैक नहीं है।',
  ),
  MEDIA_DECODE_FAILED: entry(
    422,
    'input',
    'Recording unreadable',
    'The recording could not be decoded.',
    'रिकॉर्डिंग को पढ़ा (डिकोड) नहीं जा सका।',
  ),
  MEDIA_TRUNCATED: entry(
    422,
    'input',
    'Recording truncated',
    'The recording decodes to much less than the duration its header states; the file was probably cut off during upload or copying.',
    'रिकॉर्डिंग उसके हेडर में बताई गई अवधि से बहुत छोटी निकली; फ़ाइल शायद अपलोड या कॉपी के दौरान अधूरी रह गई।',
  ),
  MEDIA_TOO_LONG: entry(
    422,
    'input',
    'Recording too long',
    'The recording is longer than this service accepts.',
    'रिकॉर्डिंग इस सेवा की अनुमत अवधि से लंबी है।',
  ),
  OCR_LANGUAGE_UNAVAILABLE: entry(
    422,
    'input',
    'OCR language not installed',
    'The requested OCR language is not installed on this server.',
    'माँगी गई OCR भाषा इस सर्वर पर स्थापित नहीं है।',
  ),
  // Authentication, authorisation and limits
  AUTH_REQUIRED: entry(
    401,
    'input',
    'Sign-in required',
    'Send a bearer token from the identity provider or an API key (Authorization: Bearer … or X-API-Key).',
    'पहचान प्रदाता का टोकन या API कुंजी भेजें (Authorization: Bearer … या X-API-Key)।',
  ),
  AUTH_TOKEN_INVALID: entry(
    401,
    'input',
    'Token malformed',
    'The bearer token is not a well-formed signed token, or lacks a required claim.',
    'बेयरर टोकन सही रूप में हस्ताक्षरित टोकन नहीं है, या उसमें आवश्यक दावा नहीं है।',
  ),
  AUTH_TOKEN_EXPIRED: entry(
    401,
    'input',
    'Token expired',
    'The token has expired. Sign in again.',
    'टोकन की अवधि समाप्त हो गई है। फिर से साइन इन करें।',
  ),
  AUTH_TOKEN_NOT_YET_VALID: entry(
    401,
    'input',
    'Token not yet valid',
    'The token is not valid yet (its nbf or iat lies in the future); check the clock of the issuing machine.',
    'टोकन अभी मान्य नहीं है (nbf या iat भविष्य में है); जारी करने वाली मशीन की घड़ी जाँचें।',
  ),
  AUTH_TOKEN_ISSUER: entry(
    401,
    'input',
    'Token from another issuer',
    'The token was not issued by the identity provider this service trusts.',
    'यह टोकन उस पहचान प्रदाता ने जारी नहीं किया जिस पर यह सेवा भरोसा करती है।',
  ),
  AUTH_TOKEN_AUDIENCE: entry(
    401,
    'input',
    'Token for another application',
    'The token was issued for another application (aud or azp is not this service’s client id).',
    'यह टोकन किसी अन्य एप्लिकेशन के लिए जारी हुआ है (aud या azp इस सेवा की क्लाइंट आईडी नहीं है)।',
  ),
  AUTH_TOKEN_SIGNATURE: entry(
    401,
    'input',
    'Token signature invalid',
    'The token signature does not verify with any key the identity provider publishes.',
    'टोकन का हस्ताक्षर पहचान प्रदाता की किसी भी प्रकाशित कुंजी से सत्यापित नहीं होता।',
  ),
  AUTH_TOKEN_ALGORITHM: entry(
    401,
    'input',
    'Token algorithm refused',
    'The token is signed with an algorithm this service does not accept.',
    'टोकन ऐसे एल्गोरिद्म से हस्ताक्षरित है जिसे यह सेवा स्वीकार नहीं करती।',
  ),
  AUTH_API_KEY_INVALID: entry(
    401,
    'input',
    'API key invalid',
    'The API key is unknown or has been revoked.',
    'API कुंजी अज्ञात है या रद्द कर दी गई है।',
  ),
  AUTH_EMAIL_UNVERIFIED: entry(
    403,
    'input',
    'Email not verified',
    'The identity provider has not verified this account’s email address.',
    'पहचान प्रदाता ने इस खाते का ईमेल पता सत्यापित नहीं किया है।',
  ),
  AUTH_USER_NOT_ALLOWED: entry(
    403,
    'input',
    'Account not allowed',
    'This account is not allowed to use this service. Ask the person who runs it for access.',
    'इस खाते को यह सेवा उपयोग करने की अनुमति नहीं है। सेवा चलाने वाले व्यक्ति से अनुमति माँगें।',
  ),
  AUTH_FORBIDDEN: entry(
    403,
    'input',
    'Administrators only',
    'Only administrators may do this.',
    'यह केवल प्रशासक कर सकते हैं।',
  ),
  AUTH_PROVIDER_UNAVAILABLE: entry(
    503,
    'transient',
    'Identity provider unreachable',
    'The signing keys of the identity provider could not be fetched. Try again shortly.',
    'पहचान प्रदाता की हस्ताक्षर कुंजियाँ प्राप्त नहीं हो सकीं। थोड़ी देर बाद पुनः प्रयास करें।',
  ),
  AUTH_SIGN_IN_FAILED: entry(
    401,
    'input',
    'Sign-in failed',
    'The identity provider did not accept the sign-in (it may have expired or been used already). Sign in again.',
    'पहचान प्रदाता ने साइन-इन स्वीकार नहीं किया (यह समाप्त या पहले ही उपयोग हो चुका हो सकता है)। फिर से साइन इन करें।',
  ),
  AUTH_NOT_CONFIGURED: entry(
    404,
    'input',
    'No identity provider',
    'This service runs without an identity provider: there is nothing to sign in to.',
    'यह सेवा बिना पहचान प्रदाता के चलती है: साइन इन करने की आवश्यकता नहीं है।',
  ),
  API_KEY_NOT_FOUND: entry(
    404,
    'input',
    'API key not found',
    'No API key with this id exists for your account.',
    'आपके खाते में इस आईडी की कोई API कुंजी नहीं है।',
  ),
  WEBHOOK_URL_INVALID: entry(
    400,
    'input',
    'Invalid callback URL',
    'The callback URL must be an absolute http:// or https:// URL without credentials.',
    'कॉलबैक URL एक पूर्ण http:// या https:// URL होना चाहिए, बिना क्रेडेंशियल के।',
  ),
  WEBHOOK_TARGET_FORBIDDEN: entry(
    400,
    'input',
    'Callback target not allowed',
    'The callback URL resolves to a loopback, private, link-local or metadata address, which this service does not call.',
    'कॉलबैक URL एक लूपबैक, निजी, लिंक-लोकल या मेटाडेटा पते पर जाता है, जिसे यह सेवा कॉल नहीं करती।',
  ),
  WEBHOOK_TARGET_UNRESOLVED: entry(
    400,
    'input',
    'Callback host not found',
    'The host of the callback URL could not be resolved.',
    'कॉलबैक URL का होस्ट नहीं मिल सका।',
  ),
  WEBHOOK_NOT_FOUND: entry(
    404,
    'input',
    'No webhook',
    'No webhook is set up for your account. Create one with PUT /v1/webhook.',
    'आपके खाते के लिए कोई वेबहुक नहीं है। PUT /v1/webhook से बनाएँ।',
  ),
  WEBHOOK_SECRET_MISSING: entry(
    409,
    'input',
    'No signing secret',
    'Callbacks are signed with your webhook signing secret: create it first with PUT /v1/webhook.',
    'कॉलबैक आपकी वेबहुक हस्ताक्षर कुंजी से हस्ताक्षरित होते हैं: पहले PUT /v1/webhook से उसे बनाएँ।',
  ),
  TRANSCRIPTION_MODEL_UNKNOWN: entry(
    400,
    'input',
    'Unknown model',
    'This model is not offered here. Use whisper-1 (mapped to the configured speech engine).',
    'यह मॉडल यहाँ उपलब्ध नहीं है। whisper-1 का उपयोग करें (यह कॉन्फ़िगर किए गए वाक् इंजन से जुड़ा है)।',
  ),
  RATE_LIMITED: entry(
    429,
    'rate_limit',
    'Too many requests',
    'Too many requests in a short time. Wait as long as Retry-After says, then try again.',
    'कम समय में बहुत अधिक अनुरोध। Retry-After जितना समय रुकें, फिर पुनः प्रयास करें।',
  ),
  QUOTA_ACTIVE_JOBS: entry(
    429,
    'rate_limit',
    'Too many jobs at once',
    'You have as many jobs waiting or running as this service allows at once. Submit more when some have finished.',
    'आपके उतने कार्य प्रतीक्षा में या चल रहे हैं जितने यह सेवा एक साथ अनुमति देती है। कुछ पूरे होने पर और भेजें।',
  ),
  QUOTA_DAILY_JOBS: entry(
    429,
    'rate_limit',
    'Daily job quota reached',
    'You have submitted as many jobs today as this service allows per day (UTC). Try again tomorrow.',
    'आपने आज उतने कार्य भेज दिए हैं जितने यह सेवा प्रतिदिन (UTC) अनुमति देती है। कल फिर प्रयास करें।',
  ),
  // Engines and infrastructure
  OCR_ENGINE_FAILED: entry(
    500,
    'transient',
    'OCR failed',
    'The OCR engine failed on this file; it will be tried again.',
    'OCR इंजन इस फ़ाइल पर विफल रहा; पुनः प्रयास किया जाएगा।',
  ),
  ENGINE_RATE_LIMITED: entry(
    429,
    'rate_limit',
    'Engine rate limit reached',
    'The cloud engine refused more requests for now (rate limit or quota); the job will be tried again later.',
    'क्लाउड इंजन ने अभी और अनुरोध लेने से मना कर दिया (दर सीमा या कोटा); कार्य बाद में पुनः चलाया जाएगा।',
  ),
  TRANSCRIPTION_ENGINE_FAILED: entry(
    500,
    'transient',
    'Transcription failed',
    'The speech engine failed on this recording; it will be tried again.',
    'वाक् इंजन इस रिकॉर्डिंग पर विफल रहा; पुनः प्रयास किया जाएगा।',
  ),
  ENGINE_UNAVAILABLE: entry(
    503,
    'transient',
    'Engine not available',
    'The processing engine is not installed or not reachable on the worker.',
    'प्रोसेसिंग इंजन वर्कर पर उपलब्ध नहीं है।',
  ),
  ENGINE_NOT_CONFIGURED: entry(
    503,
    'internal',
    'Engine not configured',
    'The selected speech engine is not set up on this server (model file or API key missing or invalid).',
    'चुना गया वाक् इंजन इस सर्वर पर स्थापित नहीं है (मॉडल फ़ाइल या API कुंजी गायब या अमान्य है)।',
  ),
  ENGINE_UPSTREAM_ERROR: entry(
    502,
    'transient',
    'Engine service error',
    'The cloud speech service answered with an error; the job will be tried again.',
    'क्लाउड वाक् सेवा ने त्रुटि लौटाई; कार्य पुनः चलाया जाएगा।',
  ),
  ENGINE_RESPONSE_INVALID: entry(
    502,
    'transient',
    'Engine answer invalid',
    'The speech service returned an answer that could not be used (malformed or with impossible timestamps); the job will be tried again.',
    'वाक् सेवा का उत्तर उपयोग योग्य नहीं था (विकृत या असंभव समय-चिह्न); कार्य पुनः चलाया जाएगा।',
  ),
  ENGINE_RESPONSE_TRUNCATED: entry(
    502,
    'internal',
    'Engine answer cut off',
    'The speech service stopped its answer at its output limit before the end of an audio chunk, even when asked again more strictly. An operator can raise GEMINI_MAX_OUTPUT_TOKENS or shorten TRANSCRIPTION_CHUNK_SEC.',
    'वाक् सेवा ने ऑडियो खंड के अंत से पहले ही अपनी आउटपुट सीमा पर उत्तर रोक दिया, दोबारा सख़्ती से पूछने पर भी। संचालक GEMINI_MAX_OUTPUT_TOKENS बढ़ा सकते हैं या TRANSCRIPTION_CHUNK_SEC घटा सकते हैं।',
  ),
  PROCESSING_TIMEOUT: entry(
    504,
    'timeout',
    'Processing timed out',
    'Processing took longer than allowed.',
    'प्रोसेसिंग में अनुमत समय से अधिक लगा।',
  ),
  // Not retried: another attempt would need the same re-reads again (JOB_EXTRA_WORK_* sets the budget).
  EXTRA_WORK_BUDGET_EXHAUSTED: entry(
    422,
    'input',
    'Too many re-reads',
    'This file needed more page re-reads or chunk re-runs than one job may use; the job was stopped so it does not run up costs.',
    'इस फ़ाइल को एक कार्य की अनुमत सीमा से अधिक पृष्ठ पुनर्पाठ या खंड पुनर्चालन की ज़रूरत पड़ी; लागत बढ़ने से रोकने के लिए कार्य रोक दिया गया।',
  ),
  STORAGE_UNAVAILABLE: entry(
    503,
    'transient',
    'Storage unavailable',
    'File storage is not available right now. Try again shortly.',
    'फ़ाइल भंडारण अभी उपलब्ध नहीं है। थोड़ी देर बाद पुनः प्रयास करें।',
  ),
  QUEUE_UNAVAILABLE: entry(
    503,
    'transient',
    'Service busy',
    'The job queue is not reachable right now. Try again shortly.',
    'कार्य कतार अभी उपलब्ध नहीं है। थोड़ी देर बाद पुनः प्रयास करें।',
  ),
  DEPENDENCY_UNAVAILABLE: entry(
    503,
    'transient',
    'Service temporarily unavailable',
    'The service cannot reach its database right now. Try again in a few seconds.',
    'सेवा अभी अपने डेटाबेस तक नहीं पहुँच पा रही है। कुछ क्षण बाद पुनः प्रयास करें।',
  ),
  JOB_CANCELLED: entry(409, 'cancelled', 'Cancelled', 'The job was cancelled.', 'कार्य रद्द कर दिया गया।'),
  WORKER_LOST: entry(
    500,
    'transient',
    'Worker stopped',
    'The worker processing this job stopped unexpectedly; the job was retried.',
    'इस कार्य को प्रोसेस करने वाला वर्कर अचानक रुक गया; कार्य पुनः चलाया गया।',
  ),
  INTERNAL_ERROR: entry(
    500,
    'internal',
    'Internal error',
    'Something went wrong on our side. The error has been logged.',
    'हमारी ओर से कुछ गड़बड़ हुई। त्रुटि दर्ज कर ली गई है।',
  ),
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CATALOG, value);
}
