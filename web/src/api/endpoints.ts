import { api } from './client'
import type {
  Card, CodeSent, Match, Me, MePatch, Photo, Plan, Profile, RankEntry, RewindResult,
  SessionCreated, SwipeAction, SwipeResult, VipStatus,
} from './types'

const V1 = '/api/v1'

export const endpoints = {
  requestCode: (phone: string) => api.post<CodeSent>(`${V1}/verification-codes`, { phone }),
  login: (phone: string, code: string) => api.post<SessionCreated>(`${V1}/sessions`, { phone, code }),
  logout: () => api.del<null>(`${V1}/sessions/current`),

  me: () => api.get<Me>(`${V1}/users/me`),
  updateMe: (patch: MePatch) => api.patch<Me>(`${V1}/users/me`, patch),
  profile: () => api.get<Profile>(`${V1}/users/me/profile`),
  updateProfile: (patch: Partial<Profile>) => api.patch<Profile>(`${V1}/users/me/profile`, patch),
  uploadAvatar: (file: Blob, name = 'avatar') => {
    const fd = new FormData()
    fd.append('avatar', file, name)
    return api.put<{ avatar: string }>(`${V1}/users/me/avatar`, fd)
  },
  addPhoto: (file: Blob, name = 'photo') => {
    const fd = new FormData()
    fd.append('photo', file, name)
    return api.post<Photo>(`${V1}/users/me/photos`, fd)
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

  vip: () => api.get<VipStatus>(`${V1}/vip`),
  plans: () => api.get<Plan[]>(`${V1}/vip/plans`),
}
