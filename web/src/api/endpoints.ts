import { api, upload, type Progress } from './client'
import type {
  BlockedUser, Card, CodeSent, Conversation, Match, Me, MePatch, Message, MessagePage, Photo, Plan, Profile,
  RankEntry, ReportReason, RewindResult, SessionCreated, SwipeAction, SwipeResult, VipStatus,
} from './types'

const V1 = '/api/v1'

export const endpoints = {
  requestCode: (phone: string) => api.post<CodeSent>(`${V1}/verification-codes`, { phone }),
  login: (phone: string, code: string) => api.post<SessionCreated>(`${V1}/sessions`, { phone, code }),
  logout: () => api.del<null>(`${V1}/sessions/current`),

  me: () => api.get<Me>(`${V1}/users/me`),
  updateMe: (patch: MePatch) => api.patch<Me>(`${V1}/users/me`, patch),
  deleteMe: () => api.del<null>(`${V1}/users/me`),
  exportMe: () => api.get<unknown>(`${V1}/users/me/export`),
  profile: () => api.get<Profile>(`${V1}/users/me/profile`),
  updateProfile: (patch: Partial<Profile>) => api.patch<Profile>(`${V1}/users/me/profile`, patch),
  uploadAvatar: (file: Blob, name = 'avatar', onProgress?: Progress) => {
    const fd = new FormData()
    fd.append('avatar', file, name)
    return upload<{ avatar: string }>('PUT', `${V1}/users/me/avatar`, fd, onProgress)
  },
  addPhoto: (file: Blob, name = 'photo', onProgress?: Progress) => {
    const fd = new FormData()
    fd.append('photo', file, name)
    return upload<Photo>('POST', `${V1}/users/me/photos`, fd, onProgress)
  },
  deletePhoto: (id: number) => api.del<null>(`${V1}/users/me/photos/${id}`),
  user: (id: number) => api.get<Card>(`${V1}/users/${id}`),

  recommendations: (limit = 20) => api.get<Card[]>(`${V1}/recommendations?limit=${limit}`),
  swipe: (userId: number, action: SwipeAction) => api.post<SwipeResult>(`${V1}/swipes`, { user_id: userId, action }),
  rewind: () => api.del<RewindResult>(`${V1}/swipes/latest`),
  likesReceived: (page = 1, limit = 20) =>
    api.get<{ total: number; users: Card[] }>(`${V1}/likes/received?limit=${limit}&page=${page}`),
  matches: (page = 1, limit = 20) =>
    api.get<{ total: number; matches: Match[] }>(`${V1}/matches?limit=${limit}&page=${page}`),
  unmatch: (userId: number) => api.del<null>(`${V1}/matches/${userId}`),
  rank: (limit = 50) => api.get<RankEntry[]>(`${V1}/rank?limit=${limit}`),

  conversations: (page = 1, limit = 20) =>
    api.get<{ total: number; conversations: Conversation[] }>(`${V1}/conversations?limit=${limit}&page=${page}`),
  messages: (userId: number, before?: number, limit = 50) =>
    api.get<MessagePage>(`${V1}/conversations/${userId}/messages?limit=${limit}${before ? `&before=${before}` : ''}`),
  sendMessage: (userId: number, text: string, clientId: string) =>
    api.post<Message>(`${V1}/conversations/${userId}/messages`, { text, client_id: clientId }),
  markRead: (userId: number, upTo: number) => api.post<null>(`${V1}/conversations/${userId}/read`, { up_to: upTo }),

  blocks: (page = 1, limit = 100) =>
    api.get<{ total: number; users: BlockedUser[] }>(`${V1}/blocks?limit=${limit}&page=${page}`),
  block: (userId: number) => api.post<null>(`${V1}/blocks`, { user_id: userId }),
  unblock: (userId: number) => api.del<null>(`${V1}/blocks/${userId}`),
  report: (userId: number, reason: ReportReason, note: string) =>
    api.post<{ id: number }>(`${V1}/reports`, note ? { user_id: userId, reason, note } : { user_id: userId, reason }),

  vip: () => api.get<VipStatus>(`${V1}/vip`),
  plans: () => api.get<Plan[]>(`${V1}/vip/plans`),
}
