// Types of the Swiper HTTP API v1 (see shared API.md). Only what the web client uses.

export type Gender = 'male' | 'female'
export type DatingGender = Gender | 'any'
export type SwipeAction = 'like' | 'superlike' | 'dislike'

export interface Photo {
  id: number
  url: string
  position: number
}

export interface VipQuotas {
  likes_left_today: number | null
  rewinds_left_today: number
}

export interface VipStatus {
  level: number
  name: string
  expires_at: string | null
  permissions: string[]
  quotas: VipQuotas
}

export interface Me {
  id: number
  phone: string
  nickname: string
  gender: Gender
  birthday: string
  age: number
  city: string
  has_location: boolean
  avatar: string
  photos: Photo[]
  vip: VipStatus
  created_at: string
}

export interface Card {
  id: number
  nickname: string
  gender: Gender
  age: number
  city: string
  avatar: string
  distance_km?: number
  superliked_me: boolean
  photos: Photo[]
}

export interface Profile {
  dating_gender: DatingGender
  dating_city: string
  min_distance: number
  max_distance: number
  min_dating_age: number
  max_dating_age: number
  vibration: boolean
  only_matched: boolean
  auto_play: boolean
}

export interface Match {
  user: Card
  matched_at: string
}

export interface SwipeResult {
  matched: boolean
  match: Match | null
}

export interface RewindResult {
  user: Card
  action: SwipeAction
}

export interface Plan {
  level: number
  name: string
  permissions: string[]
}

export interface RankEntry {
  rank: number
  score: number
  user: Card
}

export interface CodeSent {
  expires_in: number
  resend_after: number
}

export interface SessionCreated {
  token: string
  expires_at: string
  created: boolean
  user: Me
}

export interface MePatch {
  nickname?: string
  gender?: Gender
  birthday?: string
  city?: string
  lat?: number | null
  lng?: number | null
}

/** The VIP level that first grants each permission (API.md §VIP). */
export const PERMISSION_LEVEL: Record<string, number> = {
  vipflag: 1,
  superlike: 1,
  rewind: 2,
  who_liked_me: 3,
  unlimited_like: 3,
  any_location: 3,
}

export const LEVEL_NAMES = ['非会员', '青铜会员', '白银会员', '黄金会员']
